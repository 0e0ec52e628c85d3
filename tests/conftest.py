"""Fixtures: a fresh database per test, an app per client, tokens of each scope, logged-in clients."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from litestar import Litestar
from litestar.testing import TestClient

from app.db import Database
from app.main import create_app
from app.settings import Settings, load_settings
from app.store import tickets, tokens

TEST_HOST = "testserver.local"


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file migrated once per test run; each test starts from its own copy.

    Migrating takes ~0.15 s (18 transactions, each synced): over a thousand tests, minutes of the suite.
    The migrations themselves are tested from an empty file in test_db.py.
    """
    path = tmp_path_factory.mktemp("template") / "mc.db"

    async def migrate() -> None:
        database = Database(path, readers=0)
        await database.open()
        await database.close()  # the last connection's close folds the WAL into the file

    asyncio.run(migrate())
    return path


def fresh_copy(template: Path, path: Path) -> Path:
    """A copy of the migrated database at `path` (its directory made)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, path)
    return path


@pytest.fixture
def settings(tmp_path: Path, migrated: Path) -> Settings:
    """Settings on a temporary data directory, its database already migrated."""
    fresh_copy(migrated, tmp_path / "data" / "mc.db")
    return load_settings({}, data_dir=str(tmp_path / "data"), allowed_hosts=TEST_HOST, login_attempts_per_minute=5)


@pytest.fixture
def app(settings: Settings) -> Litestar:
    """A new app (never shared between clients)."""
    return create_app(settings)


class Harness:
    """A test client plus a way to call the app's async store functions on its own event loop."""

    def __init__(self, client: TestClient[Litestar], portal: Any) -> None:
        self.client = client
        self.portal = portal
        self.db = client.app.state.mc.db

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run an async function (e.g. a store function) inside the app's loop."""
        return self.portal.call(lambda: fn(*args, **kwargs))

    def token(self, scope: str, name: str | None = None) -> str:
        """A new raw token of `scope`."""
        return self.call(tokens.create_token, self.db, scope, name)[1]

    def ticket(self, title: str = "A ticket", **fields: Any) -> str:
        """A new ticket; returns its identifier."""
        return self.call(tickets.create_ticket, self.db, "MC", title, **fields)

    def login(self, scope: str = "admin") -> str:
        """Log the client in with a new token of `scope`; return the page's CSRF token."""
        raw = self.token(scope)
        response = self.client.post("/login", data={"token": raw}, follow_redirects=False)
        assert response.status_code == 303, response.text
        return csrf_of(self.client.get("/").text)


@pytest.fixture
async def db(tmp_path: Path, migrated: Path) -> AsyncIterator[Database]:
    """A fresh, migrated database of its own (for store tests without an app)."""
    database = Database(fresh_copy(migrated, tmp_path / "mc.db"), readers=2)
    await database.open()
    yield database
    await database.close()


@pytest.fixture
def harness(app: Litestar) -> Iterator[Harness]:
    """A started app with its client."""
    with TestClient(app, base_url=f"http://{TEST_HOST}") as client, client.portal() as portal:
        yield Harness(client, portal)


@pytest.fixture
def client(harness: Harness) -> TestClient[Litestar]:
    """The harness's test client, not logged in."""
    return harness.client


def soup(html: str) -> BeautifulSoup:
    """Parse HTML the way the tests read it."""
    return BeautifulSoup(html, "html.parser")


def csrf_of(html: str) -> str:
    """The CSRF token a page carries in its forms."""
    field = soup(html).find("input", attrs={"name": "_csrf"})
    assert field is not None, "page has no CSRF field"
    value = field.get("value")
    assert isinstance(value, str) and value
    return value


def bearer(token: str) -> dict[str, str]:
    """An Authorization header."""
    return {"Authorization": f"Bearer {token}"}


def text_of(html: str, selector: str) -> str:
    """The visible text of the first element matching `selector`."""
    node = soup(html).select_one(selector)
    assert node is not None, f"nothing matches {selector}"
    return re.sub(r"\s+", " ", node.get_text(" ")).strip()


def _parse_each_handler_once() -> None:
    """Each test makes its own app, and Litestar parses every handler's signature again for each (it evaluates
    the string annotations `from __future__ import annotations` leaves): ~0.13 s of the ~0.3 s an app takes to
    make, over a thousand tests. A handler's signature is the same in every app of a run, so parse it once."""
    from litestar.utils.signature import ParsedSignature

    parse = ParsedSignature.from_fn.__func__  # type: ignore[attr-defined]
    parsed: dict[Any, ParsedSignature] = {}

    def from_fn(cls: type[ParsedSignature], fn: Any, signature_namespace: dict[str, Any]) -> ParsedSignature:
        if fn not in parsed:
            parsed[fn] = parse(cls, fn, signature_namespace)
        return parsed[fn]

    ParsedSignature.from_fn = classmethod(from_fn)  # type: ignore[method-assign,assignment]


_parse_each_handler_once()
