"""Environments (issue 15): ``promote --all`` against the same-size ``apply``, ``status`` against
``list``, measured in the same run on the same repository.

A repository of N assistants (default 10,000, one commit) is applied (staging follows latest)
and released to production once. Then 1,000 assistants change in one commit; in a copy taken
before, ``apply`` of that commit is timed (1,000 versions, 1,000 latest + 1,000 staging moves,
one transaction), and after it ``promote --all --from staging --to production`` (1,000
production moves, one transaction) is timed. ``status`` (assistants x 3 pointers) and ``list``
are timed as processes.

Usage::

    python bench/bench_environments.py [-n 10000] [--touch 1000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
GITASSIST = str(Path(sys.executable).with_name("gitassist"))
ENVS = (
    "environments:\n  staging: {follows: latest}\n"
    "  production: {promote_from: staging, protected: true}\n"
)


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def doc(assistant_id: str, i: int, prompt: str) -> str:
    return (
        f"assistant_id: {assistant_id}\ngraph_id: agent\nname: A{i}\n"
        f'context: {{model_name: echo, system_prompt: "{prompt}"}}\n'
    )


def timed(fn: object, *args: object, **kwargs: object) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--touch", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.environ.update(
        GIT_AUTHOR_NAME="Bench",
        GIT_AUTHOR_EMAIL="b@example.com",
        GIT_COMMITTER_NAME="Bench",
        GIT_COMMITTER_EMAIL="b@example.com",
        CI="1",
    )
    from gitassist.apply import apply
    from gitassist.promote import release
    from gitassist.store import Store

    base = Path(tempfile.mkdtemp(prefix="bench-env-"))
    repo = base / "repo"
    shutil.copytree(ROOT / "example-repo", repo, ignore=shutil.ignore_patterns("__pycache__"))
    (repo / "gitassist.yaml").write_text(ENVS)
    ids = [str(uuid.UUID(int=i + 1, version=4)) for i in range(args.n)]
    (repo / "assistants").mkdir()
    for i, assistant_id in enumerate(ids):
        (repo / "assistants" / f"a{i:05}.yaml").write_text(doc(assistant_id, i, "one"))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "assistants")
    first_apply = timed(apply, Store(repo))
    first_release = timed(release, Store(repo), "staging", "production", reason="first")
    for i in range(args.touch):
        (repo / "assistants" / f"a{i:05}.yaml").write_text(doc(ids[i], i, "two"))
    git(repo, "commit", "-q", "-am", f"change {args.touch}")
    applies, promotes = [], []
    for r in range(args.repeats):
        work = base / f"work{r}"
        shutil.copytree(repo, work, symlinks=True)
        applies.append(timed(apply, Store(work)))
        promotes.append(timed(release, Store(work), "staging", "production", reason="bench"))
        shutil.rmtree(work)
    apply(Store(repo))
    release(Store(repo), "staging", "production", reason="bench")

    def run(*cli: str) -> None:
        subprocess.run([GITASSIST, *cli, "-C", str(repo)], check=True, capture_output=True)

    statuses = [timed(run, "status") for _ in range(args.repeats)]
    lists = [timed(run, "list") for _ in range(args.repeats)]
    result = {
        "assistants": args.n,
        "touched": args.touch,
        "first_apply_s": round(first_apply, 2),
        "first_release_s": round(first_release, 2),
        "apply_median_s": round(statistics.median(applies), 3),
        "promote_all_median_s": round(statistics.median(promotes), 3),
        "status_median_s": round(statistics.median(statuses), 3),
        "list_median_s": round(statistics.median(lists), 3),
    }
    print(json.dumps(result, indent=2))
    shutil.rmtree(base)


if __name__ == "__main__":
    main()
