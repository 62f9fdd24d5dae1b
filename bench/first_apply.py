"""Issue 13 target 6: the first ``apply`` of a generated history, timed in one process.

Hard-links a copy of a repository built by ``bench/generate.py --no-apply`` and runs
``gitassist.apply.apply`` on it once; prints wall time, this process's CPU and the CPU of
its children (the one ``git log --raw`` of :mod:`gitassist.history`).

Usage::

    python bench/generate.py -n 10000 -c 20000 --no-apply
    python bench/first_apply.py bench/results/repos/n10000-c20000-s0 /tmp/first-apply-copy
"""

from __future__ import annotations

import json
import resource
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate import copy_repo


def main() -> int:
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    if dst.exists():
        shutil.rmtree(dst)
    copy_repo(src, dst)
    from gitassist.apply import apply
    from gitassist.store import Store

    t0, c0 = time.perf_counter(), time.process_time()
    out = apply(Store(dst))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        json.dumps(
            {
                "wall_s": round(wall, 1),
                "cpu_s": round(cpu, 1),
                "children_cpu_s": round(children.ru_utime + children.ru_stime, 1),
                "versions": len(out.plan.versions),
                "commits": out.plan.commits_walked,
            }
        )
    )
    shutil.rmtree(dst)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
