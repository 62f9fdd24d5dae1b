"""Latency of assistant operations on a real ``langgraph dev`` server.

Starts the in-memory server on a tiny one-graph project in a temporary directory,
fills it with N assistants (async SDK client, bounded concurrency), then times
with the sync SDK client, R repetitions each, over loopback HTTP:

- ``get``          ``assistants.get(id)``
- ``update``       ``assistants.update(id, context=...)`` (creates a new version)
- ``set_latest``   ``assistants.set_latest(id, 1)``
- ``get_versions`` ``assistants.get_versions(id)``
- ``create``       ``assistants.create(...)`` of a fresh assistant

Usage::

    python bench/server_ops.py --n 1000 --n 10000 [--repeats 30]

prints one JSON object keyed by N. From Python, :func:`measure_server` returns
``{"get": {"median_ms": ..., "p90_ms": ...}, ...}``; :func:`run_bench` also
returns start-up and fill timings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from tests.lgserver import DEFAULT_GRAPH_ID, start_server, write_tiny_project  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Callable

OPS: tuple[str, ...] = ("get", "update", "set_latest", "get_versions", "create")
DEFAULT_CONCURRENCY = 16
WARMUP = 3


@dataclass
class BenchResult:
    """Everything one run measured; ``ops`` is what :func:`measure_server` returns."""

    n: int
    repeats: int
    startup_s: float
    fill_s: float
    fill_per_s: float
    ops: dict[str, dict[str, float]] = field(default_factory=dict)


def summarize(samples_ms: list[float]) -> dict[str, float]:
    """Median and 90th percentile (inclusive method) of *samples_ms*."""
    if len(samples_ms) == 1:
        only = round(samples_ms[0], 3)
        return {"median_ms": only, "p90_ms": only}
    p90 = statistics.quantiles(samples_ms, n=10, method="inclusive")[8]
    return {"median_ms": round(statistics.median(samples_ms), 3), "p90_ms": round(p90, 3)}


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000.0


async def _fill(url: str, n: int, concurrency: int) -> list[str]:
    from langgraph_sdk import get_client

    client = get_client(url=url, api_key=None, timeout=120)
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int) -> str:
        async with sem:
            assistant = await client.assistants.create(
                DEFAULT_GRAPH_ID,
                context={"greeting": f"hello #{i}", "temperature": (i % 10) / 10},
                name=f"bench-{i:06d}",
                metadata={"bench": True, "i": i},
            )
            return str(assistant["assistant_id"])

    try:
        return list(await asyncio.gather(*(one(i) for i in range(n))))
    finally:
        await client.http.client.aclose()


def _measure_ops(url: str, ids: list[str], repeats: int, seed: int) -> dict[str, list[float]]:
    from langgraph_sdk import get_sync_client

    client = get_sync_client(url=url, api_key=None, timeout=120)
    assistants = client.assistants
    rng = random.Random(seed)
    # Distinct assistants spread over the whole store (cycled if repeats > n).
    picks = rng.sample(ids, min(repeats, len(ids)))
    targets = [picks[i % len(picks)] for i in range(repeats)]
    warm = ids[:WARMUP]
    samples: dict[str, list[float]] = {op: [] for op in OPS}
    try:
        for aid in warm:  # connection set-up and first-call effects
            assistants.get(aid)
        for aid in targets:
            samples["get"].append(_timed(partial(assistants.get, aid)))
        for k, aid in enumerate(targets):
            ctx: dict[str, Any] = {"greeting": f"updated {k}", "temperature": 0.9}
            samples["update"].append(_timed(partial(assistants.update, aid, context=ctx)))
        for aid in targets:
            samples["set_latest"].append(_timed(partial(assistants.set_latest, aid, 1)))
        for aid in targets:
            samples["get_versions"].append(_timed(partial(assistants.get_versions, aid)))
        for k in range(repeats):
            create = partial(
                assistants.create,
                DEFAULT_GRAPH_ID,
                context={"greeting": f"fresh {k}", "temperature": 0.1},
                name=f"bench-fresh-{k:04d}",
            )
            samples["create"].append(_timed(create))
    finally:
        client.http.client.close()
    return samples


def run_bench(
    n: int,
    repeats: int = 30,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    seed: int = 0,
    log_dir: Path | None = None,
) -> BenchResult:
    """Start a server, fill it with *n* assistants, time each op *repeats* times."""
    if n < 1 or repeats < 1:
        raise ValueError("n and repeats must be >= 1")
    with tempfile.TemporaryDirectory(prefix="bench-server-ops-") as tmp:
        project = write_tiny_project(Path(tmp) / "project")
        log_path = (log_dir or Path(tmp)) / f"langgraph-dev-n{n}.log"
        with start_server(project, log_path=log_path) as server:
            t0 = time.perf_counter()
            ids = asyncio.run(_fill(server.url, n, concurrency))
            fill_s = time.perf_counter() - t0
            samples = _measure_ops(server.url, ids, repeats, seed)
        return BenchResult(
            n=n,
            repeats=repeats,
            startup_s=round(server.startup_seconds, 3),
            fill_s=round(fill_s, 3),
            fill_per_s=round(n / fill_s, 1),
            ops={op: summarize(samples[op]) for op in OPS},
        )


def measure_server(n: int, repeats: int = 30) -> dict[str, dict[str, float]]:
    """``{op: {"median_ms": ..., "p90_ms": ...}}`` for a server holding *n* assistants."""
    return run_bench(n, repeats).ops


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--n", type=int, action="append", help="assistants to create (repeatable)")
    parser.add_argument("--repeats", type=int, default=30, help="repetitions per op")
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--log-dir", type=Path, help="keep the server logs here")
    args = parser.parse_args(argv)
    if args.log_dir:
        args.log_dir.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {}
    for n in args.n or [1000]:
        result = run_bench(
            n, args.repeats, concurrency=args.concurrency, seed=args.seed, log_dir=args.log_dir
        )
        out[str(n)] = asdict(result)
        print(f"n={n}: done", file=sys.stderr)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
