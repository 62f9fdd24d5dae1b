"""One concern per module, checked: no module in gitassist/ grows past 450 lines (issue 9).
A module that needs more is two concerns; split it (docs/architecture.md names every module)."""

from __future__ import annotations

from pathlib import Path

LIMIT = 450
PACKAGE = Path(__file__).resolve().parent.parent / "gitassist"


def test_no_module_is_over_the_limit() -> None:
    sizes = {
        str(path.relative_to(PACKAGE)): len(path.read_text(encoding="utf-8").splitlines())
        for path in PACKAGE.rglob("*.py")
    }
    assert len(sizes) > 50  # the package was found
    over = {name: n for name, n in sorted(sizes.items()) if n > LIMIT}
    assert not over, f"modules over {LIMIT} lines: {over}"
