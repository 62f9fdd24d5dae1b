"""Progress on stderr for long work (first apply, validate of many files, sync): counts, rate
and ETA, drawn by click's progress bar, only when stderr is a terminal and the output is not
JSON. Machines (pipes, CI logs, --json) get nothing.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from collections.abc import Iterator

    from gitassist.progress import Progress

MIN_TOTAL = 50  # fewer items than this finish before a bar is worth drawing


def wanted(as_json: bool = False) -> bool:
    """Whether to draw progress: stderr is a terminal, not --json, not TERM=dumb."""
    return not as_json and sys.stderr.isatty() and os.environ.get("TERM") != "dumb"


class _Bars:
    """One click progress bar per label; a new label closes the previous bar."""

    def __init__(self) -> None:
        self.label = ""
        self.bar: Any = None
        self.started = 0.0
        self.done = 0  # what the bar was told (it buffers steps below update_min_steps)

    def __call__(self, label: str, done: int, total: int) -> None:
        if total < MIN_TOTAL:
            return
        if label != self.label:
            self.close()
            self.label, self.started, self.done = label, time.monotonic(), 0
            self.bar = click.progressbar(
                length=total,
                label=label,
                file=sys.stderr,
                show_eta=True,
                show_pos=True,
                item_show_func=lambda rate: rate,
                update_min_steps=max(1, total // 200),
            )
            self.bar.__enter__()
        elapsed = time.monotonic() - self.started
        rate = f"{done / elapsed:,.0f}/s" if elapsed > 0 else ""
        self.bar.update(done - self.done, rate)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@contextlib.contextmanager
def progress(as_json: bool = False) -> Iterator[Progress | None]:
    """A progress callback for a core function, or None when nothing should be drawn."""
    if not wanted(as_json):
        yield None
        return
    bars = _Bars()
    try:
        yield bars
    finally:
        bars.close()
