"""Overhead gitassist adds to a run, in-process, once the graph is loaded.

Builds a temporary git repository with a tiny real graph (one node reading
``runtime.context``), its committed context schema and one assistant, then times,
N times each after a warm-up:

- ``direct``   ``graph.invoke(input, context=...)`` on the compiled graph
- ``prepare``  resolve + merge + validate the context + load the graph (cached)
- ``wait``     ``client.runs.wait(None, assistant_id, input=...)``: prepare + run
- ``stream``   ``list(client.runs.stream(None, assistant_id, input=..., stream_mode="updates"))``
- ``wait_thread`` ``wait`` on one thread: adds the SQLite checkpointer and the run records
  (for information; the target is about stateless runs)

and reports medians in ms, the time added per run (``wait`` - ``direct``) and the ratio.
Target: under 50 ms added per run.

Usage::

    python bench/bench_runner.py [--n 200] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

if TYPE_CHECKING:
    from collections.abc import Callable

TARGET_MS = 50.0
WARMUP = 5

# The same small deterministic graph the test suite uses.
from tests.conftest import CONTEXT_SCHEMA as SCHEMA  # noqa: E402
from tests.conftest import GRAPH_PY  # noqa: E402


def make_repo(path: Path) -> None:
    files = {
        "langgraph.json": json.dumps(
            {"dependencies": ["."], "graphs": {"agent": "./graph.py:graph"}}
        ),
        "graph.py": GRAPH_PY,
        "schemas/agent.context.json": json.dumps(SCHEMA, indent=2),
        ".gitignore": ".gitassist/\n__pycache__/\n",
    }
    for rel, text in files.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(text, encoding="utf-8")
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@example.com",
    }
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "initial"]):
        subprocess.run(["git", *args], cwd=path, check=True, env=env)
    os.environ.update({k: v for k, v in env.items() if k.startswith("GIT_")})


def median_ms(fn: Callable[[], Any], n: int) -> float:
    for _ in range(WARMUP):
        fn()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def run_bench(n: int) -> dict[str, Any]:
    from gitassist import get_sync_client
    from gitassist.graphs import load_graph
    from gitassist.run_prepare import prepare

    with tempfile.TemporaryDirectory(prefix="gitassist-bench-") as tmp:
        root = Path(tmp)
        make_repo(root)
        client = get_sync_client(repo=root)
        context = {"model_name": "echo", "system_prompt": "Be brief."}
        assistant = client.assistants.create("agent", context=context, name="Bench")
        assistant_id = assistant["assistant_id"]
        graph = load_graph(root, "agent", "./graph.py:graph")
        question = {"question": "q"}
        store = client.runs.runner.store
        thread_id = client.threads.create()["thread_id"]

        results = {
            "direct": median_ms(lambda: graph.invoke(question, context=context), n),
            "prepare": median_ms(lambda: prepare(store, assistant_id), n),
            "wait": median_ms(lambda: client.runs.wait(None, assistant_id, input=question), n),
            "stream": median_ms(
                lambda: list(
                    client.runs.stream(None, assistant_id, input=question, stream_mode="updates")
                ),
                n,
            ),
            "wait_thread": median_ms(
                lambda: client.runs.wait(thread_id, assistant_id, input=question), n
            ),
        }
    added = results["wait"] - results["direct"]
    return {
        "n": n,
        "median_ms": {k: round(v, 3) for k, v in results.items()},
        "added_ms_per_run": round(added, 3),
        "ratio": round(results["wait"] / results["direct"], 2),
        "target_ms": TARGET_MS,
        "target_met": added < TARGET_MS,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=200, help="timed runs per measurement")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args(argv)
    report = run_bench(args.n)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        med = report["median_ms"]
        print(
            f"median of {args.n} runs (ms): direct invoke {med['direct']:.3f}, "
            f"gitassist wait {med['wait']:.3f}, stream {med['stream']:.3f}, "
            f"prepare alone {med['prepare']:.3f}, wait on a thread {med['wait_thread']:.3f}"
        )
        print(
            f"added per run: {report['added_ms_per_run']:.3f} ms "
            f"(ratio {report['ratio']}x); target < {TARGET_MS:.0f} ms: "
            f"{'met' if report['target_met'] else 'NOT met'}"
        )
    return 0 if report["target_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
