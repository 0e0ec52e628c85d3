"""Running the app under uvicorn, with the limits uvicorn itself does not set.

uvicorn with httptools reads headers of any size and waits forever for a client to finish them: one 50 MB
header was answered, and 20,000 half-sent requests used up the process's file descriptors. The protocol
below bounds each request's line and headers (bytes and count), the time a connection may take to send
them, and the connections a process keeps open. It also answers a stream request over its cap itself: a
storm of clients that knock again the moment they are refused would otherwise spend the CPU that page
renders need on uvicorn's request cycle and Litestar's middleware, only to be told 503. The rest (TLS,
slow bodies, per-address limits) is the job of the proxy in front: see deploy/.
"""

from __future__ import annotations

import copy
import logging
import re
import resource
import time
from functools import cache
from typing import Any

import httptools
from litestar import Litestar
from uvicorn.config import LOGGING_CONFIG
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle

from app.caps import OVER_CAP_BODY, OVER_CAP_HEADERS, hold_before_routing
from app.settings import Settings, load_settings, parse_trusted_proxies

log = logging.getLogger("mc.server")

FD_RESERVE = 256  # descriptors kept for the database, logs and outgoing calls beyond client connections


class RequestTooLarge(Exception):
    """A request's line or headers went past a limit; `status` says which answer it gets."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@cache
def limits() -> Settings:
    """This process's settings (uvicorn's worker processes read theirs from the MC_* environment)."""
    return load_settings()


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header deadline, header limits and a connection cap."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_bytes = 0
        self._header_count = 0
        self._reading_headers = True  # from the connection (or the last request's end) to the headers' end
        self._unparsed_bytes = 0  # bytes received while reading headers: httptools holds a partial header
        self._deadline: Any = None

    def connection_made(self, transport: Any) -> None:
        """Refuse the connection outright past the cap; else give it until the deadline to send headers."""
        if len(self.connections) >= connection_cap():
            transport.abort()  # no answer: writing one would wait on a client we cannot afford
            return
        super().connection_made(transport)
        self._arm_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the deadline with the connection."""
        self._disarm_deadline()
        if self.transport is not None:
            super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Feed the parser; a request past a limit is answered and the connection closed."""
        self._unset_keepalive_if_required()
        if self._reading_headers:
            self._unparsed_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        except httptools.HttpParserError as exc:
            refused = exc.__context__ if isinstance(exc.__context__, RequestTooLarge) else None
            if refused is None:
                self.logger.warning("Invalid HTTP request received.")
                self.refuse(400, "Invalid HTTP request received.")
            else:
                self.refuse(refused.status, str(refused))
            return
        if self._reading_headers and self._unparsed_bytes > limits().max_header_bytes:
            # A header line that never ends reaches no callback: httptools keeps it all. Stop it here.
            self.refuse(431, f"Request headers too large: at most {limits().max_header_bytes} bytes.")

    def on_message_begin(self) -> None:
        """A new request (also the next one on a kept-alive connection): its headers are on the clock."""
        super().on_message_begin()
        self._header_bytes = self._header_count = 0
        self._arm_deadline()

    def on_url(self, url: bytes) -> None:
        """Count the request line."""
        self._count(len(url), 0)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        """Count each header (httptools may hand one over in pieces: only whole ones are counted as one)."""
        self._count(len(name) + len(value), 1 if name else 0)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        """Headers done in time: the deadline is off (bodies and responses have their own limits)."""
        self._disarm_deadline()
        self._reading_headers = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        """The request's body is in: what comes next on this connection is another request's headers."""
        self._reading_headers, self._unparsed_bytes = True, 0
        super().on_message_complete()

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        """Run the app for this request, unless it is a stream request over its cap: that one is answered here."""
        hold = None
        try:  # this runs inside the parser's callback, where an exception would become a 400 for any request
            litestar_app = _litestar(self.app) if app is self.app else None
            hold = hold_before_routing(litestar_app, cycle.scope) if litestar_app is not None else None
        except Exception:
            log.exception("the stream cap check failed; the app will check it")
        if hold is None:
            super()._start_asgi_task(cycle, app)
        elif hold:
            self.loop.call_later(hold, self._over_cap, cycle)
        else:
            self._over_cap(cycle)

    def _over_cap(self, cycle: RequestResponseCycle) -> None:
        """The 503 the app would send (app/caps.py), then on to the next request as uvicorn's cycle would."""
        if self.transport is None or self.transport.is_closing() or cycle.disconnected:
            return
        _note_refusal()
        keep_alive = cycle.keep_alive
        self.transport.write(OVER_CAP_RESPONSE if keep_alive else OVER_CAP_RESPONSE_CLOSE)
        cycle.response_started = cycle.response_complete = True
        if not keep_alive:
            self.transport.close()
        self.on_response_complete()

    def refuse(self, status: int, message: str) -> None:
        """Answer with `status` and a one-line reason, then close."""
        self._disarm_deadline()
        if self.transport is None or self.transport.is_closing():
            return
        body = message.encode()
        self.transport.write(
            STATUS_LINE[status]
            + b"content-type: text/plain; charset=utf-8\r\ncontent-length: "
            + str(len(body)).encode()
            + b"\r\nconnection: close\r\n\r\n"
            + body
        )
        self.transport.close()

    def _count(self, size: int, headers: int) -> None:
        settings = limits()
        self._header_bytes += size
        self._header_count += headers
        if self._header_bytes > settings.max_header_bytes:
            raise RequestTooLarge(431, f"Request headers too large: at most {settings.max_header_bytes} bytes.")
        if self._header_count > settings.max_headers:
            raise RequestTooLarge(431, f"Too many request headers: at most {settings.max_headers}.")

    def _arm_deadline(self) -> None:
        self._disarm_deadline()
        self._deadline = self.loop.call_later(limits().header_timeout_s, self._headers_too_slow)

    def _disarm_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _headers_too_slow(self) -> None:
        self._deadline = None
        if self.cycle is not None and not self.cycle.response_complete:
            # An answer is going out and a pipelined request behind it is slow: finish the answer, then close.
            self.cycle.keep_alive = False
            return
        self.refuse(408, "Request headers took too long.")


def _http_head(status: int, headers: list[tuple[bytes, bytes]]) -> bytes:
    return STATUS_LINE[status] + b"".join(name + b": " + value + b"\r\n" for name, value in headers)


OVER_CAP_RESPONSE = _http_head(503, OVER_CAP_HEADERS) + b"\r\n" + OVER_CAP_BODY
OVER_CAP_RESPONSE_CLOSE = _http_head(503, [*OVER_CAP_HEADERS, (b"connection", b"close")]) + b"\r\n" + OVER_CAP_BODY


_refused = {"count": 0, "since": 0.0}
REFUSALS_LOG_EVERY_S = 60.0


def _note_refusal() -> None:
    """Count over-cap refusals and say how many at most once a minute (not a line for each of a storm's)."""
    _refused["count"] += 1
    now = time.monotonic()
    if now - _refused["since"] >= REFUSALS_LOG_EVERY_S:
        log.warning("%d stream request(s) refused over the cap (503) since the last such line", _refused["count"])
        _refused["count"], _refused["since"] = 0, now


def _litestar(app: Any) -> Litestar | None:
    """The Litestar app under uvicorn's wrappers."""
    while app is not None and not isinstance(app, Litestar):
        app = getattr(app, "app", None)
    return app


@cache
def connection_cap() -> int:
    """MC_MAX_CONNECTIONS, lowered to fit the file descriptors this process may open."""
    wanted = limits().max_connections
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted + FD_RESERVE:
        target = wanted + FD_RESERVE if hard == resource.RLIM_INFINITY else min(hard, wanted + FD_RESERVE)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    cap = wanted if soft == resource.RLIM_INFINITY else min(wanted, soft - FD_RESERVE)
    if cap < wanted:
        log.warning("only %d connections per process: the open-files limit is %d (raise it with ulimit -n)", cap, soft)
    return max(cap, 16)


_SECRET_QUERY = re.compile(r"([?&]token=)[^&\s]*")


class RedactTokens(logging.Filter):
    """Keeps tokens out of the access log: a login link's `?token=` is written as `?token=[redacted]`."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the request line's path, never drop the line."""
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "token=" in args[2]:
            record.args = (*args[:2], _SECRET_QUERY.sub(r"\1[redacted]", args[2]), *args[3:])
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging, with tokens redacted from the access log and the app's own loggers shown."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact": {"()": "app.server.RedactTokens"}}
    config["handlers"]["access"]["filters"] = ["redact"]
    config["loggers"]["mc"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def serve(settings: Settings, workers: int, quiet: bool) -> None:
    """Run uvicorn on `settings` until SIGTERM or Ctrl-C."""
    import uvicorn

    proxies = parse_trusted_proxies(settings.trusted_proxies)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        http="app.server:GuardedProtocol",
        # Forwarded headers only from the proxies named in MC_TRUSTED_PROXIES (uvicorn would trust any
        # client on 127.0.0.1, so a same-host client could pick the address the login limit counts).
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
        timeout_graceful_shutdown=settings.shutdown_timeout_s,
        # A session's socket takes one message to the agent (and its JSON) at most; uvicorn's default is 16 MB.
        ws_max_size=settings.session_message_bytes + 16_384,
        server_header=False,
        log_config=log_config(),
        log_level="warning" if quiet else "info",
    )
