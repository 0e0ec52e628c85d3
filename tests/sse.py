"""A small SSE client on a raw socket, so tests can read slowly, stop reading, or hang up rudely."""

from __future__ import annotations

import socket
import struct
import time

import msgspec


class Frame(msgspec.Struct):
    """One SSE message (or a comment)."""

    event: str = "message"
    id: str | None = None
    data: str = ""
    comment: str | None = None


class SSE:
    """An open GET on a stream: status, headers, then frames."""

    def __init__(self, base_url: str, path: str, token: str, headers: dict[str, str] | None = None) -> None:
        host, port = base_url.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", f"Authorization: Bearer {token}",
                 "Accept: text/event-stream", *(f"{k}: {v}" for k, v in (headers or {}).items())]  # fmt: skip
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buffer = b""
        head = self._until(b"\r\n\r\n")
        status_line, *header_lines = head.decode().split("\r\n")
        self.status = int(status_line.split()[1])
        self.headers = {k.lower(): v.strip() for k, v in (h.split(":", 1) for h in header_lines if ":" in h)}
        self.chunked = self.headers.get("transfer-encoding") == "chunked"
        self.body = b""

    def _recv(self) -> bytes:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("closed")
        return data

    def _until(self, mark: bytes) -> bytes:
        while mark not in self.buffer:
            self.buffer += self._recv()
        head, self.buffer = self.buffer.split(mark, 1)
        return head

    def _fill(self) -> None:
        """Move at least one more piece of the body from the socket (unchunking it) into self.body."""
        if not self.chunked:
            self.body += self.buffer or self._recv()
            self.buffer = b""
            return
        size_line = self._until(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            raise ConnectionError("end of stream")
        while len(self.buffer) < size + 2:
            self.buffer += self._recv()
        self.body += self.buffer[:size]
        self.buffer = self.buffer[size + 2 :]

    def next(self, timeout: float = 5) -> Frame:
        """The next frame (comments included), waiting at most `timeout` seconds."""
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        while b"\n\n" not in self.body:
            if time.monotonic() > deadline:
                raise TimeoutError("no frame")
            self._fill()
        raw, self.body = self.body.split(b"\n\n", 1)
        frame = Frame()
        data = []
        for line in raw.decode().split("\n"):
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "":
                frame.comment = value
            elif field == "data":
                data.append(value)
            elif field in ("event", "id"):
                setattr(frame, field, value)
        frame.data = "\n".join(data)
        return frame

    def events(self, count: int, timeout: float = 5, kind: str | None = None) -> list[Frame]:
        """The next `count` frames with an event name (of `kind` if given), skipping comments and retry hints."""
        found: list[Frame] = []
        while len(found) < count:
            frame = self.next(timeout)
            if frame.comment is None and frame.data and (kind is None or frame.event == kind):
                found.append(frame)
        return found

    def reset(self) -> None:
        """Hang up with a TCP RST (SO_LINGER 0), as a crashed client or a dropped network would."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self) -> None:
        """Hang up politely (FIN)."""
        self.sock.close()
