"""``<repo>/.gitassist``: gitassist's local, git-ignored state (threads, materialised trees)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

STATE_DIR = ".gitassist"


def state_dir(root: Path) -> Path:
    """``<repo>/.gitassist``, created on first use and ignored by git from inside."""
    path = root / STATE_DIR
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
    ignore = path / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n", encoding="utf-8")
    return path
