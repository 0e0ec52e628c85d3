"""A fake Spotify on 127.0.0.1: the accounts service's token endpoint and the Web API calls Radio makes, with a
player whose state the commands change. Every request is recorded; answers can be scripted ahead (a 429, a 5xx,
garbage) for the next matching request."""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes import Served

CLIENT_ID = "fake-client-id"
CLIENT_SECRET = "fake-client-secret"
REFRESH_TOKEN = "fake-refresh-token"
ART = b"""<svg xmlns="http://www.w3.org/2000/svg" width="300" height="300" viewBox="0 0 300 300">
<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#3552c8"/>
<stop offset="1" stop-color="#c2410c"/></linearGradient></defs><rect width="300" height="300" fill="url(#g)"/>
<circle cx="150" cy="150" r="70" fill="none" stroke="#fff" stroke-width="10" opacity=".8"/>
<circle cx="150" cy="150" r="12" fill="#fff"/></svg>"""


@dataclass
class Seen:
    """One request as the fake received it."""

    method: str
    path: str
    query: dict[str, str]
    body: bytes
    headers: dict[str, str]

    def form(self) -> dict[str, str]:
        """The body as a URL-encoded form."""
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


@dataclass
class Scripted:
    """An answer to give the next request to `path` (and `method`, when given) instead of the real one."""

    path: str
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    method: str | None = None


def playing(base_url: str) -> dict[str, Any]:
    """A player state: a track 1:23 into its 3:45, on a device at 60 % volume."""
    return {
        "is_playing": True,
        "progress_ms": 83_000,
        "device": {"id": "d1", "name": "Kitchen speaker", "type": "Speaker", "volume_percent": 60,
                   "supports_volume": True},
        "item": {"name": "Weightless", "uri": "spotify:track:fake1", "duration_ms": 225_000,
                 "artists": [{"name": "Marconi Union"}],
                 "album": {"name": "Ambient Transmissions", "images": [{"url": f"{base_url}/art.svg", "width": 300}]}},
        "currently_playing_type": "track",
    }  # fmt: skip


class FakeSpotify(Served):
    """Spotify's token endpoint (POST /api/token) and Web API (/v1/...) on one loopback port."""

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.scripted: list[Scripted] = []
        self.valid_tokens: set[str] = set()
        self.issued = 0
        self.expires_in = 3600
        self.recommendations_closed = False  # answer /v1/recommendations with 404, as for apps made after 2024-11
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.handle(self)

            def do_POST(self) -> None:
                fake.handle(self)

            def do_PUT(self) -> None:
                fake.handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests read `requests`."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.player: dict[str, Any] | None = playing(self.base_url)
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer_next(self, path: str, status: int, body: Any = b"", method: str | None = None, **headers: str) -> None:
        """Answer the next request to `path` with `status` (`body` as JSON unless bytes)."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.scripted.append(Scripted(path, status, raw, {k.replace("_", "-"): v for k, v in headers.items()}, method))

    def expire_tokens(self) -> None:
        """Every access token handed out so far stops working (the client must renew)."""
        with self.lock:
            self.valid_tokens.clear()

    def api_calls(self) -> list[Seen]:
        """The Web API requests so far (not the token endpoint's, nor the art)."""
        return [r for r in self.requests if r.path.startswith("/v1/")]

    def token_calls(self) -> list[Seen]:
        """The token endpoint's requests so far."""
        return [r for r in self.requests if r.path == "/api/token"]

    def handle(self, http: BaseHTTPRequestHandler) -> None:
        """Record the request and answer it."""
        url = urlsplit(http.path)
        body = http.rfile.read(int(http.headers.get("content-length") or 0))
        seen = Seen(http.command, url.path, {k: v[0] for k, v in parse_qs(url.query).items()}, body,
                    {k.lower(): v for k, v in http.headers.items()})  # fmt: skip
        with self.lock:
            if url.path != "/art.svg":
                self.requests.append(seen)
            script = next((s for s in self.scripted if s.path == url.path and s.method in (None, http.command)), None)
            if script is not None:
                self.scripted.remove(script)
                status, answer, headers = script.status, script.body, script.headers
            else:
                status, answer, headers = self.answer(seen)
        http.send_response(status)
        content_type = "image/svg+xml" if url.path == "/art.svg" else "application/json"
        http.send_header("content-type", content_type)
        for name, value in headers.items():
            http.send_header(name, value)
        http.send_header("content-length", str(len(answer)))
        http.end_headers()
        http.wfile.write(answer)

    def answer(self, seen: Seen) -> tuple[int, bytes, dict[str, str]]:
        """What real Spotify would answer (status, body, headers), changing the player as it does."""
        if seen.path == "/art.svg":
            return 200, ART, {"cache-control": "max-age=3600"}
        if seen.path == "/api/token":
            return self.token(seen)
        if seen.headers.get("authorization", "").removeprefix("Bearer ") not in self.valid_tokens:
            return 401, json.dumps({"error": {"status": 401, "message": "The access token expired"}}).encode(), {}
        player = self.player
        key = (seen.method, seen.path)
        if key == ("GET", "/v1/me/player"):
            return (204, b"", {}) if player is None else (200, json.dumps(player).encode(), {})
        if key == ("GET", "/v1/recommendations"):
            if self.recommendations_closed:
                return 404, json.dumps({"error": {"status": 404, "message": "Not Found"}}).encode(), {}
            uris = [f"spotify:track:rec{n}" for n in range(int(seen.query.get("limit", "20")))]
            return 200, json.dumps({"tracks": [{"uri": u} for u in uris], "seeds": []}).encode(), {}
        if key == ("GET", "/v1/search"):
            genre = seen.query["q"].removeprefix('genre:"').removesuffix('"')
            items = [{"uri": f"spotify:track:{genre}{n}"} for n in range(int(seen.query.get("limit", "5")))]
            return 200, json.dumps({"tracks": {"items": items}}).encode(), {}
        if seen.path.startswith("/v1/me/player/") and player is None:
            no_device = {"status": 404, "message": "Player command failed: No active device found",
                         "reason": "NO_ACTIVE_DEVICE"}  # fmt: skip
            return 404, json.dumps({"error": no_device}).encode(), {}
        if player is not None:
            if key == ("PUT", "/v1/me/player/play"):
                player["is_playing"] = True
            elif key == ("PUT", "/v1/me/player/pause"):
                player["is_playing"] = False
            elif key == ("PUT", "/v1/me/player/volume"):
                player["device"]["volume_percent"] = int(seen.query["volume_percent"])
            elif key in (("POST", "/v1/me/player/next"), ("POST", "/v1/me/player/previous")):
                player["progress_ms"] = 0
            else:
                return 404, json.dumps({"error": {"status": 404, "message": "Service not found"}}).encode(), {}
        return 204, b"", {}

    def token(self, seen: Seen) -> tuple[int, bytes, dict[str, str]]:
        """POST /api/token: a new access token for the right client and refresh token."""
        basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if seen.headers.get("authorization") != f"Basic {basic}":
            return 401, json.dumps({"error": "invalid_client", "error_description": "Invalid client"}).encode(), {}
        form = seen.form()
        if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != REFRESH_TOKEN:
            return (
                400,
                json.dumps({"error": "invalid_grant", "error_description": "Invalid refresh token"}).encode(),
                {},
            )
        self.issued += 1
        token = f"access-{self.issued}"
        self.valid_tokens.add(token)
        answer = {"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in,
                  "scope": "user-read-playback-state user-modify-playback-state"}  # fmt: skip
        return 200, json.dumps(answer).encode(), {}
