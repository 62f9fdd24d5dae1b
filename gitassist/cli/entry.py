"""The ``gitassist`` console script: a warm read answered from the read cache
(:mod:`gitassist.cli.fast`, no click or pygit2 import), anything else by the click group
(:mod:`gitassist.cli.main`)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    from gitassist.cli import fast

    try:
        answered = fast.run(args)
    except OSError as exc:  # the answer could not be written (a full disk): as the full command
        from gitassist.cli.main import IO_ERRNOS, _wants_json, crash, io_failure

        if exc.errno in IO_ERRNOS:
            io_failure(exc, _wants_json(args))
        crash(exc, _wants_json(args), review=False)
    if answered:
        sys.exit(0)
    from gitassist.cli.main import main as full

    full(args)
