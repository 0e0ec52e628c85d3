"""The README's promises: the two commands first, and every setting in its table."""

from __future__ import annotations

import msgspec

from app import ROOT
from app.settings import Settings


def test_readme_starts_with_make_run_and_make_test() -> None:
    first_block = (ROOT / "README.md").read_text().split("```")[1]
    assert "make run" in first_block and "make test" in first_block


def test_readme_lists_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    for field in msgspec.structs.fields(Settings):
        assert f"`MC_{field.name.upper()}`" in readme, field.name
