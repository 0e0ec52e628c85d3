"""The OpenAPI document is the truth: schemathesis generates requests from it (valid ones, invalid ones and
sequences of calls) against a real `mc serve`, with an admin token and with none, and checks every answer:
no 5xx, only documented status codes, bodies that match their schemas, valid input accepted, invalid input
refused. Streams are left out (an open stream never ends within a check); tests/test_hostile.py covers their
parameters."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.server import Server, start_server

pytestmark = pytest.mark.server

CONFIG = Path(__file__).with_name("schemathesis.toml")
EXAMPLES = {"admin": 15, "worker": 6, "anonymous": 3}  # per operation, in the fuzzing and stateful phases
# The coverage phase (boundary and invalid values of every parameter, ~1,850 requests whatever --max-examples
# says: 29 s) runs with the admin token, which every handler answers in full. A worker's token reaches the same
# handlers (or a 403), and without a token every route answers 401 before reading its input: for those two,
# random requests are enough to hold each answer to the document.
PHASES = {"admin": "coverage,fuzzing,stateful", "worker": "fuzzing,stateful", "anonymous": "fuzzing"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, str], Path]]:
    """A server on a database with a few tickets, a token of each writing scope, and its document in a file
    (the document itself needs a token: an anonymous run reads the file)."""
    folder = tmp_path_factory.mktemp("schema")
    db = folder / "mc.db"
    tokens = {}
    for scope in ("admin", "worker"):
        made = subprocess.run(
            [sys.executable, "-m", "app.cli", "token", "create", "--scope", scope, "--db", str(db)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        tokens[scope] = made.stdout.strip().splitlines()[-1]
    running = start_server(db)
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    for n in range(3):
        httpx.post(
            f"{running.base_url}/api/v1/tickets", json={"title": f"Ticket {n}"}, headers=admin
        ).raise_for_status()
    document = folder / "openapi.json"
    document.write_bytes(httpx.get(f"{running.base_url}/schema/openapi.json", headers=admin).content)
    yield running, tokens, document
    running.stop()


@pytest.mark.parametrize("who", ["admin", "worker", "anonymous"])
def test_every_json_route_answers_as_its_document_says(
    server: tuple[Server, dict[str, str], Path], who: str, tmp_path: Path
) -> None:
    running, tokens, document = server
    command = [
        str(Path(sys.executable).parent / "schemathesis"), "--config-file", str(CONFIG),
        "run", str(document), "--url", running.base_url,
        "--checks", "all", "--max-examples", str(EXAMPLES[who]), "--seed", "8",
        "--phases", PHASES[who],
        "--exclude-path-regex", "/(stream|tail)$", "--workers", "1",  # 2 tripped a race inside schemathesis
        "--suppress-health-check", "all", "--no-color",
    ]  # fmt: skip
    if who in tokens:
        command += ["--header", f"Authorization: Bearer {tokens[who]}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-12_000:] + result.stderr[-2000:]
    assert "No issues found" in result.stdout or " passed" in result.stdout, result.stdout[-3000:]
