"""Issue 13 target 7: a repository written N times through the API, loose versus packed.

Creates A assistants, then N ``update`` calls through the in-process client with automatic
packing off (``gc.auto 0``), and measures object-store size, loose object count and read
latency (``get`` and ``get_versions`` on a fresh client each sample, cold object lookups);
then ``gitassist.housekeeping.pack`` and the same again. A second copy is written with
packing on (git's default ``gc.auto``) to show the loose count stays bounded.

Usage::

    python bench/bench_housekeeping.py --assistants 200 --writes 1000
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def git(path: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=path, check=True, capture_output=True, text=True
    ).stdout


def setup(path: Path) -> None:
    path.mkdir(parents=True)
    (path / "langgraph.json").write_text(json.dumps({"graphs": {"agent": "./g.py:graph"}}))
    (path / ".gitignore").write_text(".gitassist/\n")
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "b")
    git(path, "config", "user.email", "b@x")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "init")


def stats(path: Path) -> dict[str, int]:
    out = {}
    for line in git(path, "count-objects", "-v").splitlines():
        key, value = line.split(": ")
        out[key] = int(value)
    return {"loose": out["count"], "loose_kib": out["size"], "pack_kib": out["size-pack"]}


def reads(path: Path, ids: list[str], samples: int) -> dict[str, float]:
    from gitassist import get_sync_client

    rng = random.Random(1)
    got, versions = [], []
    for _ in range(samples):
        client = get_sync_client(repo=path)
        aid = rng.choice(ids)
        t0 = time.perf_counter()
        client.assistants.get(aid)
        got.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        client.assistants.get_versions(aid, limit=10)
        versions.append((time.perf_counter() - t0) * 1000)
    return {
        "get_ms": round(statistics.median(got), 3),
        "get_versions_ms": round(statistics.median(versions), 3),
    }


def write(path: Path, assistants: int, writes: int) -> tuple[list[str], float]:
    from gitassist import get_sync_client

    client = get_sync_client(repo=path)
    ids = [
        client.assistants.create("agent", context={"n": i}, name=f"a{i}")["assistant_id"]
        for i in range(assistants)
    ]
    rng = random.Random(0)
    t0 = time.perf_counter()
    for i in range(writes):
        client.assistants.update(rng.choice(ids), context={"n": i})
    return ids, (time.perf_counter() - t0) * 1000 / writes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--assistants", type=int, default=200)
    parser.add_argument("--writes", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=50)
    args = parser.parse_args(argv)
    from gitassist.housekeeping import pack

    tmp = Path(tempfile.mkdtemp(prefix="bench-hk-"))
    result: dict[str, Any] = {"assistants": args.assistants, "writes": args.writes}
    try:
        off = tmp / "off"
        setup(off)
        git(off, "config", "gc.auto", "0")
        ids, per_write = write(off, args.assistants, args.writes)
        result["update_ms_mean_packing_off"] = round(per_write, 2)
        result["loose"] = {**stats(off), **reads(off, ids, args.samples)}
        t0 = time.perf_counter()
        assert pack(off / ".git")
        result["pack_s"] = round(time.perf_counter() - t0, 2)
        result["packed"] = {**stats(off), **reads(off, ids, args.samples)}
        on = tmp / "on"
        setup(on)
        ids, per_write = write(on, args.assistants, args.writes)
        time.sleep(1)
        deadline = time.monotonic() + 60
        while (on / ".git/gitassist/packing").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        result["update_ms_mean_packing_on"] = round(per_write, 2)
        result["auto"] = {**stats(on), **reads(on, ids, args.samples)}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
