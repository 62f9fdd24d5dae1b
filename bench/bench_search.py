"""Issue 13 targets 1 and 2: search / count / list from the summary index, O(1) name lookups.

Interleaved, sample by sample (so both sides see the same noise on a shared machine):
``search(limit=10)``, ``count()``, ``search(limit=1000)`` and every assistant paged by 1,000
through gitassist's ``get_sync_client`` and through ``langgraph_sdk`` against a real
``langgraph dev`` holding the same number of assistants; ``gitassist list`` beside
``gitassist get ID --json`` as processes; ``resolve_id`` by id, file stem and unique name.

Usage::

    python bench/bench_search.py --size 1000:2000 --size 10000:12000 [--repeats 30]
    python bench/bench_search.py --size 10000:12000 --no-server     # gitassist only

The generated repositories are reused from ``bench/results/repos/`` (``generate.py``); the
summary cache this writes into the repository's ``.git/gitassist/cache`` is removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.generate import RESULTS, ensure_repo  # noqa: E402

VENV_BIN = Path(sys.executable).parent


def med(samples: list[float]) -> float:
    return round(statistics.median(samples), 3)


def timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000.0


def page_all(assistants: Any) -> int:
    seen, offset = 0, 0
    while True:
        rows = assistants.search(limit=1000, offset=offset)
        seen += len(rows)
        if len(rows) < 1000:
            return seen
        offset += 1000


def cold_first_call(repo: Path) -> dict[str, float]:
    """A new process: the first search with no cache file, then with one."""
    cache = repo / ".git" / "gitassist" / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    script = (
        "import sys, time; from gitassist import get_sync_client; "
        "c = get_sync_client(repo=sys.argv[1]); t = time.perf_counter(); "
        "c.assistants.search(limit=10); print((time.perf_counter() - t) * 1000)"
    )
    out = {}
    for label in ("no_cache_file_ms", "cache_file_ms"):
        proc = subprocess.run(
            [sys.executable, "-c", script, str(repo)], capture_output=True, text=True, check=True
        )
        out[label] = round(float(proc.stdout.strip()), 1)
    return out


def bench_names(repo: Path, repeats: int) -> dict[str, float]:
    from gitassist import get_sync_client
    from gitassist.naming import resolve_id
    from gitassist.store import Store

    store = Store(repo)
    rows = get_sync_client(repo=repo).assistants.search(limit=50, sort_by="assistant_id")
    from gitassist.resolve import resolve

    stems = {}
    for r in rows:
        path = resolve(store, r["assistant_id"]).path
        if path:
            stems[r["assistant_id"]] = Path(path).stem
    targets = [(r["assistant_id"], r["name"]) for r in rows if r["assistant_id"] in stems]
    targets = targets[:repeats]
    for aid, name in targets:  # warm: the index of this tree is built once
        resolve_id(store, name)
        resolve_id(store, stems[aid])
    by: dict[str, list[float]] = {}
    for _ in range(5):
        for aid, name in targets:
            for label, target in (("id", aid), ("stem", stems[aid]), ("name", name)):
                by.setdefault(f"resolve_id_by_{label}_ms", []).append(
                    timed(lambda t=target: resolve_id(store, t))
                )
                by.setdefault(f"resolve_by_{label}_ms", []).append(
                    timed(lambda t=target: resolve(store, t))
                )
    out = {k: med(v) for k, v in by.items()}
    for label in ("stem", "name"):
        out[f"resolve_{label}_over_id"] = round(
            out[f"resolve_by_{label}_ms"] / out["resolve_by_id_ms"], 2
        )
    return out


def bench_processes(repo: Path, repeats: int) -> dict[str, float]:
    exe = str(VENV_BIN / "gitassist")
    from gitassist import get_sync_client

    aid = get_sync_client(repo=repo).assistants.search(limit=1)[0]["assistant_id"]
    runs: dict[str, list[float]] = {"list": [], "get": []}
    for _ in range(repeats):
        for label, args in (("list", ["list"]), ("get", ["get", aid, "--json"])):
            start = time.perf_counter()
            subprocess.run([exe, *args], cwd=repo, capture_output=True, check=True)
            runs[label].append((time.perf_counter() - start) * 1000.0)
    out = {f"cli_{k}_ms": med(v) for k, v in runs.items()}
    out["list_over_get"] = round(out["cli_list_ms"] / out["cli_get_ms"], 2)
    return out


def bench_ops(repo: Path, n: int, repeats: int, server: bool) -> dict[str, Any]:
    from gitassist import get_sync_client

    ours = get_sync_client(repo=repo).assistants
    ours.search(limit=10)  # the first call on a client builds / loads the index
    theirs = None
    if server:
        from langgraph_sdk import get_sync_client as sdk_client

        from bench.server_ops import _fill
        from tests.lgserver import start_server, write_tiny_project

        tmp = RESULTS / "work" / f"search-server-{n}"
        shutil.rmtree(tmp, ignore_errors=True)
        project = write_tiny_project(tmp / "project")
        ctx = start_server(project, log_path=tmp / "server.log")
        handle = ctx.__enter__()
        asyncio.run(_fill(handle.url, n, 16))
        theirs = sdk_client(url=handle.url, api_key=None, timeout=120).assistants
        theirs.search(limit=10)
    ops = {
        "search10": lambda a: a.search(limit=10),
        "count": lambda a: a.count(),
        "search1000": lambda a: a.search(limit=1000),
        "search_all": page_all,
    }
    samples: dict[str, list[float]] = {f"{s}_{op}": [] for op in ops for s in ("ours", "server")}
    try:
        for i in range(repeats):
            for op, fn in ops.items():
                if op == "search_all" and i >= max(3, repeats // 5):
                    continue
                samples[f"ours_{op}"].append(timed(lambda f=fn: f(ours)))
                if theirs is not None:
                    samples[f"server_{op}"].append(timed(lambda f=fn: f(theirs)))
        assert ours.count() == n + 1, ours.count()  # every assistant and the default
    finally:
        if theirs is not None:
            ctx.__exit__(None, None, None)
    out: dict[str, Any] = {k: med(v) for k, v in samples.items() if v}
    for op in ops:
        if f"server_{op}" in out:
            out[f"speedup_{op}"] = round(out[f"server_{op}"] / out[f"ours_{op}"], 2)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--size", action="append", default=[], help="ASSISTANTS:COMMITS")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--no-server", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    for size in args.size or ["1000:2000"]:
        n, commits = (int(x) for x in size.split(":"))
        repo = Path(ensure_repo(n, commits).path)
        try:
            result = {"first_call": cold_first_call(repo)}
            result.update(bench_ops(repo, n, args.repeats, not args.no_server))
            print(json.dumps({n: result}), flush=True)
            result.update(bench_names(repo, args.repeats))
            result.update(bench_processes(repo, max(5, args.repeats // 3)))
        finally:
            shutil.rmtree(repo / ".git" / "gitassist" / "cache", ignore_errors=True)
        results[str(n)] = result
        print(json.dumps({n: result}, indent=2), flush=True)
    out = args.out or RESULTS / "search.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
