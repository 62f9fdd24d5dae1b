"""validate and diff on a large repository (issue 3).

* ``validate`` of every assistant at HEAD (10,000 by default), median of R runs, each on a
  fresh ``Store`` (nothing cached in-process), beside **naive** validation: parse each
  document and call ``jsonschema.validate`` on its context, which checks the schema and builds
  a validator for every document. Target: well under 5 s.
* ``diff`` (the semantic review) between two revisions ``--span`` first-parent commits apart
  (1,000 by default), reporting how many assistants that range touches. Target: under 2 s.
* The same two as whole processes (``gitassist validate --rev HEAD``, ``gitassist diff``).

Usage::

    python bench/bench_review.py [--assistants 10000 --commits 100000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
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


def median_of(fn: Any, repeats: int) -> tuple[float, Any]:
    samples, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), result


def bench_validate(repo: Path, repeats: int) -> dict[str, Any]:
    from gitassist.store import Store
    from gitassist.validation import validate

    seconds, report = median_of(lambda: validate(Store(repo), rev="HEAD"), repeats)
    return {
        "validate_s": round(seconds, 3),
        "documents": report.documents,
        "errors": len(report.errors),
    }


def bench_naive(repo: Path) -> dict[str, Any]:
    """What a team would write first: parse, then jsonschema.validate per document."""
    import jsonschema

    from gitassist.documents import load_yaml_data
    from gitassist.store import Store

    store = Store(repo)
    head = store.head_commit()
    assert head is not None
    schema = json.loads(store.read_path(head.tree, "schemas/agent.context.json") or "{}")
    start = time.perf_counter()
    count = 0
    for entry in store.entries(head.tree).values():
        data = load_yaml_data(store.blob_text(entry.blob), entry.path)
        jsonschema.validate(data.get("context", {}), schema)
        count += 1
    return {"naive_validate_s": round(time.perf_counter() - start, 3), "naive_documents": count}


def bench_diff(repo: Path, span: int, repeats: int) -> dict[str, Any]:
    from gitassist.review import review
    from gitassist.store import Store

    base = f"HEAD~{span}"
    seconds, result = median_of(lambda: review(Store(repo), base, "HEAD"), repeats)
    touched = len(result.assistants)
    return {"diff_s": round(seconds, 3), "diff_span_commits": span, "diff_assistants": touched}


def bench_processes(repo: Path, span: int) -> dict[str, Any]:
    out = {}
    for key, args in (
        ("validate_process_s", ["validate", "--rev", "HEAD"]),
        ("diff_process_s", ["diff", f"HEAD~{span}", "HEAD"]),
    ):
        start = time.perf_counter()
        proc = subprocess.run(
            [str(VENV_BIN / "gitassist"), *args, "-C", str(repo)], capture_output=True, check=False
        )
        out[key] = round(time.perf_counter() - start, 3)
        if proc.returncode != 0:  # a failing command would otherwise time as a fast one
            raise RuntimeError(f"gitassist {' '.join(args)}: {proc.stderr.decode()[:500]}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assistants", type=int, default=10_000)
    parser.add_argument("--commits", type=int, default=100_000)
    parser.add_argument("--span", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    info = ensure_repo(args.assistants, args.commits)
    repo = Path(info.path)
    results: dict[str, Any] = {"assistants": args.assistants, "commits": args.commits}
    results.update(bench_validate(repo, args.repeats))
    results.update(bench_naive(repo))
    results["naive_over_gitassist"] = round(results["naive_validate_s"] / results["validate_s"], 2)
    results.update(bench_diff(repo, args.span, args.repeats))
    results.update(bench_processes(repo, args.span))
    print(json.dumps(results, indent=2))
    out = RESULTS / f"review-n{args.assistants}-c{args.commits}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    ok = results["validate_s"] < 5 and results["diff_s"] < 2
    print(
        f"validate {results['validate_s']} s (< 5 s), diff {results['diff_s']} s (< 2 s): "
        + ("met" if ok else "MISSED")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
