"""API tokens and browser logins: only hashes are stored; raw tokens are shown once."""

from __future__ import annotations

import hashlib
import secrets
import time
import weakref
from typing import Literal

import msgspec

from app.db import Database
from app.store import queries, to_struct, to_structs

Scope = Literal["admin", "worker", "read"]
SCOPES: tuple[Scope, ...] = ("admin", "worker", "read")
BEARER_CACHE_S = 5.0  # a process trusts a bearer token it looked up this long: a revoked one works at most 5 s more
LOGIN_LINK_PREFIX = "ml_"  # single-use login links; lasting tokens start with "mc_"
BEARER_CACHE_SIZE = 4096  # tokens remembered per database; past that the expired go, or all of them


class TokenError(ValueError):
    """A token request that cannot be honoured; the message says why."""


class Principal(msgspec.Struct, frozen=True):
    """Who is asking: the token behind a bearer header or a login, and its scope."""

    id: int
    name: str
    scope: Scope
    csrf_token: str | None = None  # set for browser logins only; bearer calls need no CSRF token


class TokenInfo(msgspec.Struct, frozen=True):
    """A token as `mc token list` shows it (never the token itself)."""

    id: int
    name: str
    scope: str
    created_at: str
    last_used_at: str | None
    revoked_at: str | None


class LoginTarget(msgspec.Struct, frozen=True):
    """A token that /login accepted."""

    id: int
    name: str
    scope: Scope
    kind: str


def hash_token(raw: str) -> str:
    """SHA-256 of a raw token, as stored."""
    return hashlib.sha256(raw.encode()).hexdigest()


def new_secret(prefix: str = "mc_") -> str:
    """256 random bits, URL-safe."""
    return prefix + secrets.token_urlsafe(32)


class _BearerCache:
    """Valid bearer tokens by hash, each until BEARER_CACHE_S after its lookup: a worker posting hundreds of
    times a second costs the database one lookup every few seconds, not one per request. Only tokens found
    are kept, so a new token works at once and a wrong one is looked up every time."""

    def __init__(self) -> None:
        self._found: dict[str, tuple[float, Principal]] = {}

    def get(self, token_hash: str) -> Principal | None:
        """The principal behind `token_hash` if it was looked up less than BEARER_CACHE_S ago."""
        entry = self._found.get(token_hash)
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1]

    def put(self, token_hash: str, principal: Principal) -> None:
        """Remember a token just found valid."""
        now = time.monotonic()
        if len(self._found) >= BEARER_CACHE_SIZE:
            self._found = {k: v for k, v in self._found.items() if v[0] > now}
            if len(self._found) >= BEARER_CACHE_SIZE:
                self._found.clear()
        self._found[token_hash] = (now + BEARER_CACHE_S, principal)


# One cache per open database (tests open many); it goes with its Database.
_bearers: weakref.WeakKeyDictionary[Database, _BearerCache] = weakref.WeakKeyDictionary()


async def create_token(db: Database, scope: str, name: str | None = None) -> tuple[str, str]:
    """Create an API token; return (name, raw token). The raw token is not stored."""
    if scope not in SCOPES:
        raise TokenError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    raw = new_secret()
    async with db.write() as conn:
        if name is None:
            name = f"{scope}-{secrets.token_hex(3)}"
        name = name.strip()
        if not 1 <= len(name) <= 80:
            raise TokenError("a token name must be 1-80 characters")
        if await queries.tokens_name_taken(conn, name=name):
            raise TokenError(f"a token named {name!r} already exists")
        await queries.tokens_create(conn, name=name, scope=scope, token_hash=hash_token(raw))
    return name, raw


async def create_login_link(db: Database, hours: int = 24) -> str:
    """A single-use admin login token that expires; `mc serve` prints it as a URL."""
    raw = new_secret(LOGIN_LINK_PREFIX)
    async with db.write() as conn:
        await queries.tokens_purge_stale_login_links(conn)
        await queries.tokens_create_login_link(
            conn, name=f"login-link-{secrets.token_hex(6)}", token_hash=hash_token(raw), lifetime=f"+{hours} hours"
        )
    return raw


async def count_admin_tokens(db: Database) -> int:
    """How many usable admin API tokens exist."""
    async with db.read() as conn:
        return int(await queries.tokens_count_active_admin(conn))


async def list_tokens(db: Database) -> list[TokenInfo]:
    """Every API token, revoked ones included."""
    async with db.read() as conn:
        return await to_structs(TokenInfo, queries.tokens_list(conn))


async def revoke_token(db: Database, name: str) -> bool:
    """Revoke a token by name and end its logins; False when no such active token."""
    async with db.write() as conn:
        changed = await queries.tokens_revoke(conn, name=name)
        if changed:
            await queries.tokens_delete_logins_of(conn, name=name)
    _bearers.pop(db, None)  # at once in this process; other processes forget it within BEARER_CACHE_S
    return bool(changed)


async def principal_for_bearer(db: Database, raw: str) -> Principal | None:
    """The principal behind an `Authorization: Bearer` token, if it is valid (or was, BEARER_CACHE_S ago)."""
    token_hash = hash_token(raw)
    cache = _bearers.get(db)
    if cache is None:
        cache = _bearers[db] = _BearerCache()
    found = cache.get(token_hash)
    if found is None:
        async with db.read() as conn:
            found = to_struct(Principal, await queries.tokens_by_hash(conn, token_hash=token_hash))
        if found is not None:
            cache.put(token_hash, found)
    return found


async def principal_for_login(db: Database, session_id: str) -> Principal | None:
    """The principal behind a login cookie, if the login is current."""
    async with db.read() as conn:
        return to_struct(Principal, await queries.tokens_login_by_hash(conn, id_hash=hash_token(session_id)))


async def start_login(db: Database, raw_token: str, hours: int, link_only: bool = False) -> tuple[str, str] | None:
    """Exchange a token (with `link_only`, only a single-use login link) for a fresh login: return (session
    id, csrf token), or None if refused."""
    async with db.write() as conn:
        found = to_struct(LoginTarget, await queries.tokens_for_login(conn, token_hash=hash_token(raw_token)))
        if found is None or (link_only and found.kind != "login_link"):
            return None
        if found.kind == "login_link":
            await queries.tokens_spend_login_link(conn, token_id=found.id)
        else:
            await queries.tokens_touch(conn, token_id=found.id)
        # A new id at every login, whatever cookie came in: no session fixation.
        session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        await queries.tokens_purge_expired_logins(conn)
        await queries.tokens_create_login(
            conn, id_hash=hash_token(session_id), token_id=found.id, csrf_token=csrf, lifetime=f"+{hours} hours"
        )
    return session_id, csrf


async def end_login(db: Database, session_id: str) -> None:
    """Log out: delete the login server-side."""
    async with db.write() as conn:
        await queries.tokens_delete_login(conn, id_hash=hash_token(session_id))
