"""A hostile review of the warm read path (gitassist/cli/fast.py, gitassist/read_cache.py):
each attack compares what a warm ``gitassist`` prints (stdout and stderr bytes, exit code)
with what it prints once the read cache is deleted, after plain git, the work tree, the
environment or an upgrade moved something under it; and checks the work tree is left as it
was."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import GITASSIST, git

Out = tuple[bytes, bytes, int]


def _run(args: list[str], cwd: Path, env: dict[str, str | None] | None = None) -> Out:
    full = dict(os.environ)
    for k, v in (env or {}).items():
        if v is None:
            full.pop(k, None)
        else:
            full[k] = v
    proc = subprocess.run(
        [str(GITASSIST), *args], cwd=cwd, capture_output=True, env=full, check=False, timeout=120
    )
    return proc.stdout, proc.stderr, proc.returncode


@pytest.mark.parametrize(
    "env",
    [{"XDG_CACHE_HOME": "cache"}, {"XDG_CACHE_HOME": None, "HOME": "."}],
    ids=["relative-xdg", "relative-home"],
)
def test_help_with_a_relative_cache_home_writes_nothing_here(
    make_repo: Any, env: dict[str, str | None]
) -> None:
    """`gitassist --help` keeps its text under the user's cache directory; a relative
    XDG_CACHE_HOME (invalid, says the XDG spec) or HOME must not put it in the work tree."""
    repo = make_repo()
    where = Path(repo.path)
    first = _run(["--help"], where, env)
    assert first[2] == 0 and b"Usage: gitassist" in first[0]
    assert _run(["--help"], where, env) == first
    assert git(where, "status", "--porcelain", "--ignored") == ""
