"""Issue 13 target 5: ``validate`` of N documents, cold and with a warm cache, beside a naive loop.

Builds a repository of N documents (``bench/generate.py``'s content, one commit, no history),
then measures, interleaved sample by sample so all three see the same machine noise:

- ``naive``: read every file, PyYAML's C loader, ``jsonschema_rs`` (or ``jsonschema``) on the
  context, duplicate ids by a dict: the floor of a validator that reports no positions;
- ``cold``: ``gitassist.validation.validate`` with the cache file deleted first;
- ``warm``: the same again, the cache file left from the previous cold run.

Also the CLI (``gitassist validate`` as a process) cold and warm. In-process samples record
wall time and this process's CPU time (``time.process_time``: less sensitive to other load on
a shared machine); ratios are of medians.

The repository holds the document schema (``schemas/assistant.schema.json``, as ``gitassist
init``/``schemas export`` write it), so the documents' ``$schema`` lines resolve;
``--no-document-schema`` leaves it out, as the first version of this benchmark did, and every
document then gets a ``$schema`` warning (10,000 warnings to build and, for the CLI, print).

Usage::

    python bench/bench_validate.py -n 10000 --repeats 5 [--out bench/results/validate.json]
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
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import (  # noqa: E402
    CONTEXT_SCHEMA,
    LANGGRAPH_JSON,
    MODELS,
    WORDS,
    Assistant,
    render,
)


def build(path: Path, n: int, *, document_schema: bool = True) -> None:
    rng = random.Random(0)
    (path / "assistants").mkdir(parents=True)
    (path / "schemas").mkdir()
    (path / "langgraph.json").write_text(LANGGRAPH_JSON)
    (path / "schemas" / "agent.context.json").write_text(CONTEXT_SCHEMA)
    if document_schema:
        from gitassist.schemas import DOCUMENT_SCHEMA, document_schema_text

        (path / "schemas" / DOCUMENT_SCHEMA).write_text(document_schema_text())
    for i in range(n):
        a = Assistant(
            str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            i,
            f"assistants/bench-{i:06d}.yaml",
            rng.choice(MODELS),
            " ".join(rng.choice(WORDS) for _ in range(6)),
            round(rng.random(), 2),
        )
        (path / a.path).write_bytes(render(a))
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True)
    subprocess.run(["git", "add", "-A"], cwd=path, check=True)
    subprocess.run(
        ["git", "-c", "user.name=b", "-c", "user.email=b@x", "commit", "-qm", "init"],
        cwd=path,
        check=True,
    )


def naive(path: Path) -> int:
    import yaml

    schema = json.loads((path / "schemas" / "agent.context.json").read_text())
    try:
        import jsonschema_rs

        check = jsonschema_rs.validator_for(schema)
        errors = check.iter_errors
    except ImportError:  # pragma: no cover
        from jsonschema.validators import validator_for

        errors = validator_for(schema)(schema).iter_errors
    seen: dict[str, str] = {}
    bad = 0
    for file in sorted((path / "assistants").iterdir()):
        data = yaml.load(file.read_text(), Loader=yaml.CSafeLoader)
        bad += sum(1 for _ in errors(data.get("context") or {}))
        if data["assistant_id"] in seen:
            bad += 1
        seen[data["assistant_id"]] = file.name
    return bad


def run_validate(path: Path) -> int:
    from gitassist.store import Store
    from gitassist.validation import validate

    return validate(Store(path)).documents


def cache_file(path: Path) -> Path:
    from gitassist.validate_cache import FORMAT

    return path / ".git" / "gitassist" / "cache" / f"{FORMAT}.sqlite"


def timed(fn: Any, *args: Any) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - t0) * 1000


def timed_cpu(fn: Any, *args: Any) -> tuple[float, float]:
    """Wall and CPU milliseconds of one call."""
    t0, c0 = time.perf_counter(), time.process_time()
    fn(*args)
    return (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000


def cli(path: Path) -> None:
    exe = Path(sys.executable).with_name("gitassist")
    subprocess.run([str(exe), "validate", "-C", str(path)], check=True, capture_output=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--no-document-schema", action="store_true")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench-validate-"))
    try:
        build(tmp / "r", args.n, document_schema=not args.no_document_schema)
        path = tmp / "r"
        samples: dict[str, list[float]] = {
            k: [] for k in ("naive", "cold", "warm", "cli_cold", "cli_warm")
        }
        cpu: dict[str, list[float]] = {k: [] for k in ("naive", "cold", "warm")}
        run_validate(path)  # imports, page cache
        naive(path)

        def sample(name: str, fn: Any) -> None:
            wall, used = timed_cpu(fn, path)
            samples[name].append(wall)
            cpu[name].append(used)

        for _ in range(args.repeats):
            sample("naive", naive)
            cache_file(path).unlink(missing_ok=True)
            sample("cold", run_validate)
            sample("warm", run_validate)
            cache_file(path).unlink(missing_ok=True)
            samples["cli_cold"].append(timed(cli, path))
            samples["cli_warm"].append(timed(cli, path))
        med = {k: round(statistics.median(v), 1) for k, v in samples.items()}
        med_cpu = {k: round(statistics.median(v), 1) for k, v in cpu.items()}
        out = {
            "n": args.n,
            "repeats": args.repeats,
            "document_schema": not args.no_document_schema,
            "median_ms": med,
            "cold_over_naive": round(med["cold"] / med["naive"], 2),
            "warm_over_cold": round(med["warm"] / med["cold"], 3),
            "cli_warm_over_cli_cold": round(med["cli_warm"] / med["cli_cold"], 3),
            "median_cpu_ms": med_cpu,
            "cpu_cold_over_naive": round(med_cpu["cold"] / med_cpu["naive"], 2),
            "cpu_warm_over_cold": round(med_cpu["warm"] / med_cpu["cold"], 3),
            "samples_ms": {k: [round(x, 1) for x in v] for k, v in samples.items()},
            "samples_cpu_ms": {k: [round(x, 1) for x in v] for k, v in cpu.items()},
        }
        text = json.dumps(out, indent=2)
        print(text)
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(text + "\n")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
