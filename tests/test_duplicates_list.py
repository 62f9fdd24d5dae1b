"""docs/duplicates.md (the duplicated code that stays, and why) names places that still exist."""

from __future__ import annotations

import re

from tests.conftest import ROOT

PLACE = re.compile(r"`(gitassist/[\w/]+\.py):(\d+)-(\d+)`")


def places() -> list[tuple[str, int, int]]:
    text = (ROOT / "docs" / "duplicates.md").read_text(encoding="utf-8")
    return [(path, int(a), int(b)) for path, a, b in PLACE.findall(text)]


def test_every_listed_place_still_exists():
    found = places()
    assert len(found) >= 2  # the table was read
    stale = []
    for path, first, last in found:
        file = ROOT / path
        lines = len(file.read_text(encoding="utf-8").splitlines()) if file.is_file() else 0
        if not (1 <= first <= last <= lines):
            stale.append(f"{path}:{first}-{last} (the file has {lines} lines)")
    assert not stale, "docs/duplicates.md names places that are gone: " + ", ".join(stale)


def test_every_row_names_two_places_and_a_reason():
    text = (ROOT / "docs" / "duplicates.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if re.match(r"\| D\d+ \|", line)]
    assert rows
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(PLACE.findall(row)) == 2 and cells[-1], row
