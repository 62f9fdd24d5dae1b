"""``gitassist sync`` to a real ``langgraph dev`` server (issue 6).

Builds a git copy of example-repo/ holding N assistants (default 1,000; one commit, then
``apply`` records version 1 of each), starts ``langgraph dev`` on that directory, and times:

- ``fresh``: sync to the fresh server (N creates, then the read-back);
- ``noop``: a second sync right after (asserts zero writes);
- ``changed``: K assistants updated in git (default 10), then sync;
- ``noop_after``: one more no-op sync (asserts zero writes).

Each row: wall time, HTTP requests, writes, and the per-assistant result counts. Prints JSON.

Usage::

    python bench/bench_sync.py [--n 1000] [--changed 10] [--page-size 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.lgserver import start_server  # noqa: E402

IDENT = {
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, **IDENT}
    proc = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True, env=env
    )
    return proc.stdout


def doc(i: int, prompt: str) -> str:
    assistant_id = uuid.uuid5(uuid.NAMESPACE_URL, f"bench-sync/{i}")
    return (
        f"assistant_id: {assistant_id}\n"
        "graph_id: agent\n"
        f"name: Bench {i:05d}\n"
        "context:\n"
        "  model_name: echo\n"
        f"  system_prompt: {json.dumps(prompt)}\n"
        f"  temperature: {(i % 10) / 10}\n"
        "config:\n"
        "  tags: [bench]\n"
        "metadata:\n"
        f"  i: {i}\n"
    )


def build_repo(path: Path, n: int) -> None:
    from gitassist.apply import apply
    from gitassist.store import Store

    shutil.copytree(
        ROOT / "example-repo", path, ignore=shutil.ignore_patterns("__pycache__", ".langgraph_api")
    )
    (path / ".gitignore").write_text(".langgraph_api/\n__pycache__/\n.gitassist/\n")
    (path / "assistants").mkdir(exist_ok=True)
    for i in range(n):
        (path / "assistants" / f"bench-{i:05d}.yaml").write_text(doc(i, f"prompt {i}"))
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", f"{n} assistants")
    os.environ.update(IDENT)
    apply(Store(path))


def change(path: Path, k: int) -> None:
    from gitassist.apply import apply
    from gitassist.store import Store

    for i in range(k):
        (path / "assistants" / f"bench-{i:05d}.yaml").write_text(doc(i, f"prompt {i}, changed"))
    git(path, "commit", "-q", "-am", f"change {k} assistants")
    apply(Store(path))


def timed_sync(path: Path, url: str, page_size: int) -> dict[str, Any]:
    from gitassist.server import connect
    from gitassist.store import Store
    from gitassist.sync import sync

    store = Store(path)
    with connect(url) as remote:
        started = time.perf_counter()
        report = sync(store, remote, page_size=page_size)
        seconds = time.perf_counter() - started
    return {
        "wall_s": round(seconds, 3),
        "requests": report.requests,
        "writes": report.writes,
        "retries": report.retries,
        "results": report.counts(),
    }


def run(n: int, changed: int, page_size: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        path = Path(tmp) / "repo"
        started = time.perf_counter()
        build_repo(path, n)
        build_s = time.perf_counter() - started
        with start_server(path, log_path=Path(tmp) / "server.log") as server:
            fresh = timed_sync(path, server.url, page_size)
            noop = timed_sync(path, server.url, page_size)
            assert noop["writes"] == 0, noop
            change(path, changed)
            after_change = timed_sync(path, server.url, page_size)
            noop_after = timed_sync(path, server.url, page_size)
            assert noop_after["writes"] == 0, noop_after
            startup_s = server.startup_seconds
    return {
        "n": n,
        "page_size": page_size,
        "repo_build_s": round(build_s, 3),
        "server_startup_s": round(startup_s, 3),
        "fresh": fresh,
        "noop": noop,
        "changed": {"k": changed, **after_change},
        "noop_after": noop_after,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="assistants (default 1000)")
    parser.add_argument("--changed", type=int, default=10, help="assistants changed in git")
    parser.add_argument("--page-size", type=int, default=1000, help="search page size")
    args = parser.parse_args()
    print(json.dumps(run(args.n, args.changed, args.page_size), indent=2))


if __name__ == "__main__":
    main()
