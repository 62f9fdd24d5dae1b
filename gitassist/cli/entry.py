"""The ``gitassist`` console script: a warm read answered from the read cache
(:mod:`gitassist.cli.fast`, no click or pygit2 import), anything else by the click group
(:mod:`gitassist.cli.main`)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    from gitassist.cli import fast

    if fast.run(args):
        sys.exit(0)
    from gitassist.cli.main import main as full

    full(args)
