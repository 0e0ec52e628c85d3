"""deploy/ at work: Debian's nginx, running the shipped site file (deploy/nginx/mission-control.conf with its
@@…@@ placeholders filled), terminates TLS in front of a real `mc serve`. Through it: pages, POSTs, a live
stream with no buffering, the client's own address reaching the login limit, and slow clients cut off by nginx.
Also: the settings, units and backup script in deploy/ agree with each other and with the app, and the units
pass `systemd-analyze verify`.

The tests through nginx skip without /usr/sbin/nginx or openssl, unless MC_REQUIRE_NGINX is set: then they fail
(CI installs both).
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app import ROOT
from app.event_input import MAX_BODY_BYTES
from app.settings import load_settings
from app.sqlite import driver as sqlite3
from tests.server import Server, free_port, start_server

pytestmark = pytest.mark.server

DEPLOY = ROOT / "deploy"
SITE = DEPLOY / "nginx" / "mission-control.conf"
NGINX = "/usr/sbin/nginx"
NAME = "localhost"  # the site's server_name here: a name that resolves to loopback, with a matching certificate
UNITS = ("mission-control.service", "mission-control-backup.service", "mission-control-backup.timer")


def required(program: str) -> str:
    """The path of `program`: skip without it, or fail when MC_REQUIRE_NGINX is set."""
    found = program if Path(program).is_absolute() and os.access(program, os.X_OK) else shutil.which(program)
    if found:
        return found
    message = f"{program} is not installed (apt-get install nginx openssl)"
    if os.environ.get("MC_REQUIRE_NGINX"):
        pytest.fail(f"MC_REQUIRE_NGINX is set but {message}", pytrace=False)
    pytest.skip(message)


def site_text() -> str:
    """The shipped nginx site, placeholders and all."""
    return SITE.read_text()


def directive(name: str, text: str | None = None) -> str:
    """The value of the first `name …;` directive in the shipped site."""
    match = re.search(rf"^\s*{name}\s+([^;]+);", text or site_text(), re.M)
    assert match, name
    return match.group(1).strip()


def fill(template: str, values: dict[str, str]) -> str:
    """Replace every @@NAME@@; the template must use exactly the names given (the README documents them)."""
    assert set(re.findall(r"@@([A-Z_]+)@@", template)) == set(values)
    for name, value in values.items():
        template = template.replace(f"@@{name}@@", value)
    return template


def env_example() -> dict[str, str]:
    """deploy/env.example as the environment systemd would give the service."""
    env = {}
    for line in (DEPLOY / "env.example").read_text().splitlines():
        key, equals, value = line.partition("=")
        if equals and not key.lstrip().startswith("#"):
            env[key.strip()] = value.strip()
    return env


def unit_setting(unit: str, key: str) -> str:
    """A `Key=value` from one of the shipped units."""
    match = re.search(rf"^{key}=(.*)$", (DEPLOY / unit).read_text(), re.M)
    assert match, (unit, key)
    return match.group(1).strip()


def seconds(value: str) -> float:
    """nginx/systemd durations as used here: '10s', '1m', '15s', '4s'."""
    match = re.fullmatch(r"(\d+)(s|m|min)?", value)
    assert match, value
    return int(match.group(1)) * (60 if match.group(2) in ("m", "min") else 1)


@dataclass
class Stack:
    """nginx on the shipped site, with TLS, in front of `mc serve`."""

    url: str  # https://localhost:PORT, through nginx
    http_url: str  # the plain-HTTP listener that redirects
    https_port: int
    http_port: int
    token: str  # an admin token for the API
    tls: ssl.SSLContext  # trusts the self-signed certificate, checks the name
    server: Server
    db: Path
    prefix: Path  # nginx's -p: config, logs, pid, temporary files
    nginx: list[str]  # the command line, without -t

    def client(self, timeout: httpx.Timeout | float = 10) -> httpx.Client:
        """An HTTPS client to nginx, with the admin token."""
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.Client(base_url=self.url, headers=headers, verify=self.tls, timeout=timeout)

    def access_log(self) -> str:
        """What nginx logged for this site so far."""
        return (self.prefix / "logs" / "mission-control.access.log").read_text()


def admin_token(db: Path) -> str:
    """A new admin token for `db` (the last line `mc token create` prints)."""
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "token", "create", "--scope", "admin", "--db", str(db)],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


def self_signed(openssl: str, folder: Path) -> tuple[Path, Path]:
    """A certificate and key for NAME, valid for two days."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    options = f"-x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN={NAME}"
    names = f"subjectAltName=DNS:{NAME}"
    command = [openssl, "req", *options.split(), "-addext", names, "-keyout", str(key), "-out", str(cert)]
    subprocess.run(command, check=True, capture_output=True)
    return cert, key


def nginx_config(prefix: Path, https_port: int, http_port: int, upstream: str, cert: Path, key: str) -> Path:
    """nginx.conf for a throwaway nginx: what Debian's /etc/nginx/nginx.conf sets, everything inside `prefix`,
    and the shipped site, filled, included where Debian includes sites-enabled/*."""
    (prefix / "logs").mkdir()
    site = fill(
        site_text(),
        {
            "SERVER_NAME": NAME,
            "HTTPS_LISTEN": f"127.0.0.1:{https_port}",
            "HTTP_LISTEN": f"127.0.0.1:{http_port}",
            "CERT": str(cert),
            "KEY": key,
            "UPSTREAM": upstream,
            "LOGS": str(prefix / "logs"),
        },
    )
    (prefix / "mission-control.conf").write_text(site)
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""  # workers write temp files
    temp = "\n".join(
        f"  {kind}_temp_path {prefix / 'temp' / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    config = prefix / "nginx.conf"
    config.write_text(f"""
daemon off;
{user}
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "logs" / "error.log"} info;
events {{ worker_connections 256; }}
http {{
  sendfile on;
  tcp_nopush on;
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log {prefix / "logs" / "access.log"};
  gzip on;
{temp}
  include {prefix / "mission-control.conf"};
}}
""")
    (prefix / "temp").mkdir()
    return config


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until nginx accepts connections on `port` (or fail with its error log)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"nginx exited with {process.returncode}:\n{log.read_text() if log.exists() else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"nginx did not listen on {port}:\n{log.read_text() if log.exists() else ''}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGQUIT (graceful), then SIGTERM, then SIGKILL, each with a wait."""
    for sig, wait in ((signal.SIGQUIT, 3), (signal.SIGTERM, 3), (signal.SIGKILL, 5)):
        if process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(wait)
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """`mc serve` as deploy/env.example sets it up (trusting the proxy on 127.0.0.1, Secure cookies) behind
    nginx on the shipped site, both on free loopback ports; both are always stopped."""
    nginx, openssl = required(NGINX), required("openssl")
    prefix = tmp_path_factory.mktemp("nginx")
    cert, key = self_signed(openssl, prefix)
    https_port = free_port()
    http_port = next(p for p in iter(free_port, None) if p != https_port)
    db = prefix / "mc.db"
    token = admin_token(db)
    # Production sets MC_PUBLIC_URL=https://name, which adds the name to the Host headers the app answers. The
    # test helper waits for an http://127.0.0.1 login line, so here the same host goes in MC_ALLOWED_HOSTS.
    server = start_server(
        db,
        env={
            "MC_TRUSTED_PROXIES": env_example()["MC_TRUSTED_PROXIES"],
            "MC_COOKIE_SECURE": "1",
            "MC_ALLOWED_HOSTS": f"127.0.0.1,{NAME}:{https_port}",
            "MC_LOGIN_ATTEMPTS_PER_MINUTE": "3",
        },
    )
    try:
        upstream = server.base_url.removeprefix("http://")
        config = nginx_config(prefix, https_port, http_port, upstream, cert, str(key))
        log = prefix / "logs" / "error.log"
        command = [nginx, "-p", f"{prefix}/", "-c", str(config), "-e", str(log)]  # -e: not /var/log/nginx at start
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_port(https_port, process, log)
            yield Stack(
                url=f"https://{NAME}:{https_port}",
                http_url=f"http://{NAME}:{http_port}",
                https_port=https_port,
                http_port=http_port,
                token=token,
                tls=ssl.create_default_context(cafile=str(cert)),
                server=server,
                db=db,
                prefix=prefix,
                nginx=command,
            )
        finally:
            stop(process)
    finally:
        server.stop()


# The files in deploy/ agree with each other and with the app.


def server_blocks(text: str) -> list[str]:
    """The text of each top-level `server { … }` block."""
    blocks = []
    for start in (m.end() for m in re.finditer(r"^server \{", text, re.M)):
        depth, end = 1, start
        while depth:
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            end += 1
        blocks.append(text[start : end - 1])
    return blocks


def test_every_server_block_cuts_off_slow_headers_alike() -> None:
    """Until nginx knows a connection's server (the TLS name, the Host), the default server's values hold: so
    the plain-HTTP and catch-all servers carry the site's header limits too."""
    blocks = server_blocks(site_text())
    assert len(blocks) == 3
    for name in (
        "client_header_timeout",
        "client_header_buffer_size",
        "large_client_header_buffers",
        "reset_timedout_connection",
        "server_tokens",
    ):
        assert {directive(name, block) for block in blocks} == {directive(name)}, name


def test_env_example_is_valid_and_matches_the_site_and_the_units() -> None:
    env = env_example()
    settings = load_settings(env)
    assert settings.cookie_secure and settings.trusted_proxies == "127.0.0.1" and settings.host == "127.0.0.1"
    assert settings.public_url.startswith("https://")
    # nginx lets no header block through that the app would refuse, and cuts off slow ones no later.
    count, size = directive("large_client_header_buffers").split()
    assert int(count) * int(size.removesuffix("k")) * 1024 <= settings.max_header_bytes // 2
    assert seconds(directive("client_header_timeout")) <= settings.header_timeout_s
    # Worker events: nginx takes exactly what the app takes.
    events = re.search(r"location ~ \^/api/v1/tickets/\[\^/\]\+/events\$ \{(.*?)\}", site_text(), re.S)
    assert events and directive("client_max_body_size", events.group(1)) == f"{MAX_BODY_BYTES // 2**20}m"
    # Streams: several heartbeats fit in nginx's read timeout; upstream connections end before uvicorn's 5 s.
    streams = re.search(r"location ~ \^/api/v1/\(stream.*?\{(.*?)\}", site_text(), re.S)
    assert streams and "proxy_buffering off;" in streams.group(1)
    assert seconds(directive("proxy_read_timeout", streams.group(1))) >= 2 * 30 + 10  # heartbeat is at most 30 s
    upstream = re.search(r"upstream mission_control \{(.*?)\}", site_text(), re.S)
    assert upstream and seconds(directive("keepalive_timeout", upstream.group(1))) < 5
    # The unit: stopping waits longer than the app's shutdown; enough descriptors for the connection cap.
    assert seconds(unit_setting("mission-control.service", "TimeoutStopSec")) > settings.shutdown_timeout_s + 5
    assert int(unit_setting("mission-control.service", "LimitNOFILE")) >= settings.max_connections + 256
    assert settings.db_path.parent.as_posix() in unit_setting("mission-control.service", "ReadWritePaths")
    # The example upstream named in the site's header is where env.example has the app listen.
    example = re.search(r"@@UPSTREAM@@\s+.*", site_text())
    assert example and example.group(0).endswith(f": {settings.host}:{settings.port}")


def test_the_systemd_units_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze is not installed")
    # An alternate root holding the system's units, ours, and stand-ins for the programs they start.
    root = tmp_path / "root"
    shutil.copytree("/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    units = root / "etc/systemd/system"
    units.mkdir(parents=True)
    for unit in UNITS:
        shutil.copy(DEPLOY / unit, units / unit)
    for unit in ("mission-control.service", "mission-control-backup.service"):
        program = root / unit_setting(unit, "ExecStart").split()[0].lstrip("/")
        program.parent.mkdir(parents=True, exist_ok=True)
        program.write_text("#!/bin/sh\n")
        program.chmod(0o755)
    result = subprocess.run(
        [analyze, "verify", f"--root={root}", *(f"/etc/systemd/system/{u}" for u in UNITS)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_nginx_accepts_the_filled_site(stack: Stack) -> None:
    result = subprocess.run([*stack.nginx, "-t"], capture_output=True, text=True)
    assert result.returncode == 0 and "test is successful" in result.stderr, result.stderr


def test_the_filled_site_fits_in_debians_own_nginx_conf(stack: Stack, tmp_path: Path) -> None:
    """Installed as README says: Debian's nginx.conf (which sets ssl_protocols, gzip, … itself) with only this
    site in sites-enabled. A directive the site repeated at the http level would fail here."""
    if not Path("/etc/nginx/nginx.conf").exists():
        pytest.skip("no /etc/nginx/nginx.conf")
    etc = tmp_path / "nginx"
    shutil.copytree("/etc/nginx", etc, symlinks=True)
    shutil.rmtree(etc / "sites-enabled")
    (etc / "sites-enabled").mkdir()
    shutil.copy(stack.prefix / "mission-control.conf", etc / "sites-enabled" / "mission-control")
    config = etc / "nginx.conf"
    config.write_text(config.read_text().replace("/etc/nginx/", f"{etc}/").replace("/var/log/nginx/", f"{tmp_path}/"))
    command = [stack.nginx[0], "-t", "-c", str(config), "-e", str(tmp_path / "error.log")]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0 and "test is successful" in result.stderr, result.stderr


def test_the_backup_script_writes_a_dated_checked_copy_and_keeps_the_newest(stack: Stack, tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    for old in ("mc-2020-01-01T000000Z.db", "mc-2021-06-01T000000Z.db", "mc-2022-01-01T000000Z.db", "notes.txt"):
        (backups / old).write_text("old")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MC_")},
        "MC_DB": str(stack.db),
        "BACKUP_DIR": str(backups),
        "BACKUP_KEEP": "2",
        "MC_BIN": str(Path(sys.executable).parent / "mc"),
    }
    result = subprocess.run([str(DEPLOY / "backup.sh")], env=env, capture_output=True, text=True)  # server running
    assert result.returncode == 0, result.stderr
    kept = sorted(p.name for p in backups.iterdir())
    assert len(kept) == 3 and kept[0] == "mc-2022-01-01T000000Z.db" and kept[2] == "notes.txt", kept
    assert re.fullmatch(r"mc-\d{4}-\d\d-\d\dT\d{6}Z\.db", kept[1])
    with sqlite3.connect(f"file:{backups / kept[1]}?mode=ro", uri=True) as copy:
        assert copy.execute("SELECT count(*) FROM api_tokens").fetchone()[0] >= 1
    assert not list(backups.glob(".*partial"))


# Through nginx.


def test_pages_answer_over_tls_and_plain_http_redirects(stack: Stack) -> None:
    with stack.client() as client:
        health = client.get("/healthz")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert health.headers["strict-transport-security"].startswith("max-age=")
        board = client.get("/board")
        assert board.status_code == 200 and "text/html" in board.headers["content-type"], board.text[:300]
    redirect = httpx.get(f"{stack.http_url}/board?x=1")
    assert redirect.status_code == 301 and redirect.headers["location"] == f"https://{NAME}/board?x=1"
    with httpx.Client(verify=stack.tls) as anonymous:
        assert anonymous.get(f"{stack.url}/board").status_code in (302, 303, 307)  # to /login: auth still applies
        with pytest.raises(httpx.RemoteProtocolError):  # a Host that is not ours: closed without an answer
            anonymous.get(f"{stack.url}/healthz", headers={"Host": "elsewhere.example"})


def test_the_login_link_sets_a_secure_cookie_and_its_token_stays_out_of_the_access_log(stack: Stack) -> None:
    link_token = stack.server.login_url.split("token=", 1)[1]
    with httpx.Client(base_url=stack.url, verify=stack.tls) as browser:
        login = browser.get(f"/login?token={link_token}")
        assert login.status_code == 303, login.text[:300]
        cookie = login.headers["set-cookie"].lower()
        assert "secure" in cookie and "httponly" in cookie
        assert browser.get("/board").status_code == 200  # the cookie works over HTTPS
    logged = stack.access_log()
    assert "GET /login?[redacted] " in logged and link_token not in logged


def test_posts_go_through_with_body_limits_per_location(stack: Stack) -> None:
    with stack.client() as client:
        created = client.post("/api/v1/tickets", json={"title": "Through nginx"})
        assert created.status_code == 201, created.text
        ticket = created.json()["identifier"]
        event = client.post(f"/api/v1/tickets/{ticket}/events", json={"type": "assistant", "uuid": "a-1"})
        assert event.status_code == 201 and event.json() == {"seq": 1}
        # A 2 MB batch is fine for the events location, while the same size anywhere else is refused by nginx.
        batch = {"events": [{"type": "note", "text": "x" * 200_000} for _ in range(10)]}
        assert client.post(f"/api/v1/tickets/{ticket}/events", json=batch).status_code == 201
        too_big = client.post("/login", data={"token": "x" * 2_000_000})
        assert too_big.status_code == 413 and "nginx" in too_big.text


def test_a_stream_delivers_each_event_through_nginx_at_once(stack: Stack) -> None:
    with stack.client() as client, stack.client(timeout=httpx.Timeout(10, read=5)) as listener:
        ticket = client.post("/api/v1/tickets", json={"title": "Streamed"}).json()["identifier"]
        assert client.post(f"/api/v1/tickets/{ticket}/events", json={"type": "note"}).status_code == 201
        with listener.stream("GET", f"/api/v1/tickets/{ticket}/stream") as stream:
            assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
            frames = frames_of(stream.iter_lines())
            assert next(f for f in frames if f.get("event") == "ticket_event")["id"] == "1"  # the replay
            text = {"type": "text", "text": "live through nginx"}
            posted = client.post(
                f"/api/v1/tickets/{ticket}/events", json={"type": "assistant", "message": {"content": [text]}}
            )
            assert posted.status_code == 201
            started = time.monotonic()
            # A read waits at most 5 s (heartbeats come every 15): a buffering proxy would time out here.
            frame = next(f for f in frames if f.get("event") == "ticket_event")
            assert frame["id"] == "2" and "live through nginx" in frame["data"]
            assert time.monotonic() - started < 3


def frames_of(lines: Iterator[str]) -> Iterator[dict[str, str]]:
    """SSE frames from lines: each a dict of its fields (data lines joined), comments left out."""
    frame: dict[str, str] = {}
    for line in lines:
        if not line:
            if frame:
                yield frame
            frame = {}
        elif not line.startswith(":"):
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            frame[field] = f"{frame[field]}\n{value}" if field == "data" and field in frame else value


def test_the_app_sees_each_clients_own_address_and_no_forged_one(stack: Stack) -> None:
    """nginx replaces X-Forwarded-For with the client's address and the app trusts it (MC_TRUSTED_PROXIES):
    the login limit (3 a minute here) counts per real client, whatever a client claims to be."""

    def failed_login(source: str, claimed: str) -> httpx.Response:
        transport = httpx.HTTPTransport(verify=stack.tls, local_address=source)
        with httpx.Client(transport=transport, base_url=stack.url) as client:
            # The Origin is checked against the Host nginx passes on: a refusal would be 403.
            return client.post(
                "/login", data={"token": "wrong"}, headers={"X-Forwarded-For": claimed, "Origin": stack.url}
            )

    first = [failed_login("127.0.0.2", f"10.0.0.{n}") for n in range(4)]
    assert [r.status_code for r in first] == [401, 401, 401, 429], [r.text[:200] for r in first]
    assert "retry-after" in first[3].headers  # the app's limit, not nginx's
    assert failed_login("127.0.0.3", "127.0.0.2").status_code == 401


def test_slow_and_silent_clients_are_cut_off_by_nginx(stack: Stack) -> None:
    """Each within client_header_timeout of connecting, whether or not it finished its TLS handshake (until it
    does, the catch-all server's timeout applies: it was 60 s before that server got the site's limits)."""
    timeout = seconds(directive("client_header_timeout"))
    assert timeout <= 10
    tls = ssl.create_default_context(cafile=str(stack.prefix / "cert.pem"))
    started = time.monotonic()
    no_handshake = socket.create_connection(("127.0.0.1", stack.https_port))  # connects, never says hello
    silent = tls.wrap_socket(socket.create_connection(("127.0.0.1", stack.https_port)), server_hostname=NAME)
    slow = tls.wrap_socket(socket.create_connection(("127.0.0.1", stack.https_port)), server_hostname=NAME)
    slow.sendall(f"GET /healthz HTTP/1.1\r\nHost: {NAME}:{stack.https_port}\r\nUser-Agent: slo".encode())
    plain = socket.create_connection(("127.0.0.1", stack.http_port))
    plain.sendall(f"GET / HTTP/1.1\r\nHost: {NAME}\r\n".encode())
    clients = (no_handshake, silent, slow, plain)
    try:
        with stack.client() as client:  # meanwhile everyone else is served
            assert client.get("/healthz").status_code == 200
        for sock in clients:
            reply = until_closed(sock, started + timeout + 3)
            assert reply in (b"", None) or reply.startswith(b"HTTP/1.1 408"), reply
        elapsed = time.monotonic() - started
        assert timeout - 1 <= elapsed <= timeout + 3, elapsed
    finally:
        for sock in clients:
            sock.close()


def until_closed(sock: socket.socket, deadline: float) -> bytes | None:
    """What the peer sent before it closed the connection: bytes, or None for a reset; fails at `deadline`."""
    received = b""
    while True:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            pytest.fail("still connected after nginx's client_header_timeout")
        except (ConnectionResetError, ssl.SSLError):
            return received or None
        if not chunk:
            return received
        received += chunk
