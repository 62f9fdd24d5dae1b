"""The README's main command keeps working: scripts/demo.py runs end to end, offline."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.slow  # 15-20 s: the whole demo; `pytest -m 'not slow'` skips it
def test_demo_runs_end_to_end():
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    assert "version 2 is active" in out
    assert "(system: You are terse. Answer in five words.)" in out
    assert "(system: You are a friendly support agent.)" in out
    assert "becomes version 3 once merged and applied" in out
    assert "No changes: versions and latest refs are up to date." in out
