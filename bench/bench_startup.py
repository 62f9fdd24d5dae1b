"""Issue 13 target 4: CLI start-up as whole processes, beside ``python -c pass``.

Every round runs each command once, in turn (so all of them see the same machine load), and
each command's CPU time (user + system, the kernel's accounting of the reaped child) is
divided by the CPU time of the ``python -c pass`` run of the same round. Reported per command:
median CPU, median wall and the median of the per-round ratios. The warm read path needs its
cache entry: every command runs once before the rounds (``--cold`` instead deletes the read
cache before each run of a read command, to measure the ordinary path that fills it).

Use a regular (non-editable) install: an editable one adds its import finder to every start::

    python -m venv /tmp/reg && /tmp/reg/bin/pip install .
    python bench/generate.py --assistants 1000 --commits 2000 --path /tmp/repo1k
    python bench/bench_startup.py --python /tmp/reg/bin/python --repo /tmp/repo1k -n 11

The floor is ``bench/cli_floor.py`` (pygit2 + PyYAML doing get's read, nothing else).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def run_once(argv: list[str], cwd: str) -> tuple[float, float, int]:
    """(CPU seconds, wall seconds, exit code) of one process, output discarded."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime, wall, proc.returncode


def some_id(repo: str) -> str:
    out = subprocess.run(
        ["git", "for-each-ref", "--count=1", "--format=%(refname)", "refs/assistants/*/latest"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return out.split("/")[2]


def commands(python: str, repo: str, ident: str) -> dict[str, list[str]]:
    gitassist = str(Path(python).with_name("gitassist"))
    return {
        "python -c pass": [python, "-c", "pass"],
        "gitassist --help": [gitassist, "--help"],
        "gitassist get ID --json": [gitassist, "get", ident, "--json", "-C", repo],
        "gitassist get ID": [gitassist, "get", ident, "-C", repo],
        "gitassist show ID": [gitassist, "show", ident, "-C", repo],
        "gitassist versions ID": [gitassist, "versions", ident, "-C", repo],
        "gitassist list": [gitassist, "list", "-C", repo],
        "gitassist list --json": [gitassist, "list", "--json", "-C", repo],
        "floor: bench/cli_floor.py": [python, str(HERE / "cli_floor.py"), repo, ident],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--python", default=sys.executable, help="the install's interpreter")
    parser.add_argument("--repo", required=True, help="an applied assistant repository")
    parser.add_argument("-n", "--rounds", type=int, default=11)
    parser.add_argument("--cold", action="store_true", help="delete the read cache each run")
    parser.add_argument("--out", type=Path, help="write the JSON here too")
    args = parser.parse_args(argv)
    repo = str(Path(args.repo).resolve())
    cmds = commands(args.python, repo, some_id(repo))
    cache = Path(repo) / ".git" / "gitassist" / "cache" / "read-v1"
    for argv_ in cmds.values():  # warm-up (and, for the warm path, its cache entries)
        run_once(argv_, repo)
    samples: dict[str, list[tuple[float, float, int]]] = {name: [] for name in cmds}
    for _ in range(args.rounds):
        for name, argv_ in cmds.items():
            if args.cold and name.startswith("gitassist") and "--help" not in name:
                shutil.rmtree(cache, ignore_errors=True)
            samples[name].append(run_once(argv_, repo))
    base = samples["python -c pass"]
    result: dict[str, Any] = {
        "rounds": args.rounds,
        "cold": args.cold,
        "repo": repo,
        "python": args.python,
        "loadavg": os.getloadavg(),
        "commands": {},
    }
    print(f"{'command':28} {'cpu ms':>8} {'wall ms':>8} {'x pass (cpu)':>13}")
    for name, runs in samples.items():
        ratios = [cpu / b[0] for (cpu, _, _), b in zip(runs, base, strict=True) if b[0] > 0]
        row = {
            "cpu_ms": round(statistics.median(r[0] for r in runs) * 1000, 1),
            "wall_ms": round(statistics.median(r[1] for r in runs) * 1000, 1),
            "ratio_cpu": round(statistics.median(ratios), 2) if ratios else None,
            "exit_codes": sorted({r[2] for r in runs}),
        }
        result["commands"][name] = row
        print(f"{name:28} {row['cpu_ms']:8} {row['wall_ms']:8} {row['ratio_cpu']!s:>13}")
    text = json.dumps(result, indent=2)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
