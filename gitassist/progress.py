"""The progress callback long operations accept: ``progress(label, done, total)``.

Core functions call it as work is counted (files validated, commits walked, assistants synced)
and never render anything; the CLI decides whether and how to show it (gitassist/cli/progress.py).
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int], None]


def noop(label: str, done: int, total: int) -> None:
    """The progress of a caller that does not want any."""
