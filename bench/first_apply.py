"""Issue 13 target 6: the first ``apply`` of a generated history, timed in one process.

Hard-links a copy of a repository built by ``bench/generate.py --no-apply`` and runs
``gitassist.apply.apply`` on it once; prints wall time, this process's CPU and the CPU of
its children (the one ``git log --raw`` of :mod:`gitassist.history` and, for a long walk,
the worker processes that parse the blobs).

With ``--compare NAME=CHECKOUT ...`` each sample runs in a fresh process with that
checkout's ``gitassist`` first on ``sys.path``, the checkouts taking turns sample by sample
(``--rounds`` of them) so that all see the same machine load; ``--out`` writes the samples
and per-checkout medians as JSON.

Usage::

    python bench/generate.py -n 10000 -c 20000 --no-apply
    python bench/first_apply.py bench/results/repos/n10000-c20000-s0 /tmp/first-apply-copy
    python bench/first_apply.py bench/results/repos/n10000-c20000-s0 /tmp/first-apply-copy \\
        --compare before=/path/to/main now=. --rounds 3 --out bench/results/first_apply.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(src: Path, dst: Path) -> dict[str, float]:
    sys.path.append(str(ROOT))  # after PYTHONPATH: the checkout under test gives gitassist
    from bench.generate import copy_repo

    if dst.exists():
        shutil.rmtree(dst)
    copy_repo(src, dst)
    from gitassist.apply import apply
    from gitassist.store import Store

    t0, c0 = time.perf_counter(), time.process_time()
    out = apply(Store(dst))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    shutil.rmtree(dst)
    return {
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "children_cpu_s": round(children.ru_utime + children.ru_stime, 1),
        "versions": len(out.plan.versions),
        "commits": out.plan.commits_walked,
    }


def compare(args: argparse.Namespace) -> int:
    checkouts = dict(item.split("=", 1) for item in args.compare)
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in checkouts}
    for round_ in range(args.rounds):
        for name, checkout in checkouts.items():
            env = {
                **os.environ,
                "PYTHONPATH": str(Path(checkout).resolve()),
                "PYTHONDONTWRITEBYTECODE": "1",  # leave the other checkout as it is
            }
            proc = subprocess.run(
                [sys.executable, __file__, str(args.src), str(args.dst)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            sample = json.loads(proc.stdout.strip().splitlines()[-1])
            samples[name].append(sample)
            print(f"[{round_ + 1}/{args.rounds}] {name}: {sample}", file=sys.stderr, flush=True)
    medians = {
        name: {k: statistics.median(s[k] for s in runs) for k in runs[0]}
        for name, runs in samples.items()
    }
    result = {"src": str(args.src), "rounds": args.rounds, "samples": samples, "medians": medians}
    names = list(checkouts)
    if len(names) == 2:
        a, b = (medians[n] for n in names)
        result["ratio_wall"] = round(a["wall_s"] / b["wall_s"], 2)
        result["ratio_cpu_total"] = round(
            (a["cpu_s"] + a["children_cpu_s"]) / (b["cpu_s"] + b["children_cpu_s"]), 2
        )
    text = json.dumps(result, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(text)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", type=Path)
    parser.add_argument("dst", type=Path)
    parser.add_argument("--compare", nargs="+", metavar="NAME=CHECKOUT")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.compare:
        return compare(args)
    print(json.dumps(measure(args.src, args.dst)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
