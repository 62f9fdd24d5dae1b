"""SIGKILL apply at random moments: refs end entirely before or entirely after, never between."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid

import pytest

from tests.conftest import doc_yaml, git

APPLY = (
    "import sys\nfrom gitassist.store import Store\nfrom gitassist.apply import apply\n"
    "apply(Store(sys.argv[1]))\n"
)


def ref_state(path) -> dict[str, str]:
    """Ref name -> peeled commit (tag and pointer object ids differ run to run)."""
    out = git(path, "for-each-ref", "--format=%(refname) %(*objectname) %(objectname)")
    state = {}
    for line in out.splitlines():
        name, peeled, oid = [*line.split(" "), "", ""][:3]
        if not name.startswith("refs/heads/"):
            state[name] = peeled or oid
    return state


def versions(state: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in state.items() if "/versions/" in k}


@pytest.mark.slow
def test_sigkill_during_apply_is_all_or_nothing(make_repo, tmp_path):
    ids = [str(uuid.uuid4()) for _ in range(40)]
    repo = make_repo({f"assistants/a{i:02}.yaml": doc_yaml(x, f"A{i}") for i, x in enumerate(ids)})
    for k in range(4):
        repo.commit(
            {f"assistants/a{i:02}.yaml": doc_yaml(x, f"A{i}-{k}") for i, x in enumerate(ids)}
        )
    script = tmp_path / "apply.py"
    script.write_text(APPLY)
    assert not versions(ref_state(repo.path))
    # the complete result, once, to compare against
    done = tmp_path / "done"
    shutil.copytree(repo.path, done)
    start = time.monotonic()
    subprocess.run([sys.executable, str(script), str(done)], check=True)
    duration = time.monotonic() - start
    after = versions(ref_state(done))
    assert len(after) == 40 * 5

    rng = random.Random(1234)
    outcomes = {"before": 0, "after": 0}
    for attempt in range(12):
        work = tmp_path / f"kill{attempt}"
        shutil.copytree(repo.path, work)
        proc = subprocess.Popen(
            [sys.executable, str(script), str(work)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.2, duration * 1.1))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        state = versions(ref_state(work))
        assert state in ({}, after), f"partial refs after kill #{attempt}: {len(state)} refs"
        outcomes["after" if state else "before"] += 1
        fsck = subprocess.run(
            ["git", "fsck", "--no-dangling"], cwd=work, capture_output=True, text=True, check=False
        )
        assert fsck.returncode == 0, fsck.stderr
        # a fresh apply completes the job (and cleans up any lock the kill left)
        subprocess.run([sys.executable, str(script), str(work)], check=True)
        assert versions(ref_state(work)) == after
        assert not (work / ".git" / "packed-refs.lock").exists()
        shutil.rmtree(work)
    print("outcomes", outcomes, "duration", round(duration, 2))
    assert outcomes["before"] and outcomes["after"], outcomes
