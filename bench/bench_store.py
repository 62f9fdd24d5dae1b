"""Latency of gitassist's store, side by side with a real ``langgraph dev`` server.

For each repository size (N assistants, C commits; generated and cached by
``bench/generate.py``, then copied so the writes below do not touch the cache) it measures,
R times each, median and p90:

- ``resolve``          ``gitassist.resolve.resolve(store, id)`` in-process, the first
                       time for each id (its blob is parsed), and again (``resolve_warm``)
- ``resolve_fresh``    the same on a new ``Store`` each time (opening the repo, loading refs)
- ``cli_get``          ``gitassist get ID --json`` as a whole process (cold start), and
                       a check with ``python -X importtime`` that langgraph is not imported
- ``get_versions``     ``client.assistants.get_versions(id)`` on the assistants with the
                       most versions
- ``get``, ``create``, ``update``, ``set_latest`` through ``get_sync_client(repo=...)``

and (unless ``--no-server``) the client operations on a real server holding N assistants,
**interleaved** sample by sample with gitassist's so both see the same machine noise
(:func:`bench_interleaved`), ``get_versions`` with equal row counts, with the ratio
server / gitassist. The server keeps its data in memory and each server sample includes a
loopback HTTP round trip (~1 ms). The JSON is written after each size.
A table goes to stdout, everything to ``bench/results/store-<stamp>.json``.

Usage::

    python bench/bench_store.py                       # 1,000/10,000 and 10,000/100,000
    python bench/bench_store.py --quick               # 1,000 assistants / 2,000 commits, < 2 min
    python bench/bench_store.py --size 1000:10000 --repeats 50 --no-server
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.generate import RESULTS, copy_repo, ensure_repo  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Callable

VENV_BIN = Path(sys.executable).parent
TARGETS_MS = {
    "resolve": 1.0,
    "cli_get": 350.0,
    "get_versions": 50.0,
}
SERVER_OPS = ("get", "update", "set_latest", "get_versions", "create")


def summarize(samples_ms: list[float]) -> dict[str, float]:
    """Median, p90 (inclusive), min, max and count of ``samples_ms``."""
    if not samples_ms:
        return {}
    if len(samples_ms) == 1:
        p90 = samples_ms[0]
    else:
        p90 = statistics.quantiles(samples_ms, n=10, method="inclusive")[8]
    return {
        "median_ms": round(statistics.median(samples_ms), 3),
        "p90_ms": round(p90, 3),
        "min_ms": round(min(samples_ms), 3),
        "max_ms": round(max(samples_ms), 3),
        "n": len(samples_ms),
    }


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000.0


def recorded_ids(repo: Path) -> dict[str, int]:
    """Every assistant id with a latest ref, and its highest version number."""
    out = subprocess.run(
        ["git", "for-each-ref", "--format=%(refname)", "refs/assistants"],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    top: dict[str, int] = {}
    for name in out:
        parts = name.split("/")
        if len(parts) == 5 and parts[3] == "versions":
            top[parts[2]] = max(top.get(parts[2], 0), int(parts[4]))
    return top


# --------------------------------------------------------------------------- measurements


def bench_resolve(repo: Path, ids: list[str], fresh_repeats: int) -> dict[str, Any]:
    from gitassist.resolve import resolve
    from gitassist.store import Store

    store = Store(repo)
    resolve(store, ids[-1])  # first call: loads packed-refs and the applied state
    cold = [timed(lambda i=i: resolve(store, i)) for i in ids[:-1]]
    warm = [timed(lambda i=i: resolve(store, i)) for i in ids[:-1]]
    fresh = []
    for aid in ids[:fresh_repeats]:
        fresh.append(timed(lambda a=aid: resolve(Store(repo), a)))
    return {
        "resolve": summarize(cold),
        "resolve_warm": summarize(warm),
        "resolve_fresh": summarize(fresh),
    }


def bench_cli_get(repo: Path, ids: list[str]) -> dict[str, Any]:
    exe = str(VENV_BIN / "gitassist")
    samples = []
    for aid in ids:
        start = time.perf_counter()
        proc = subprocess.run(
            [exe, "get", aid, "--json"], cwd=repo, capture_output=True, check=False
        )
        samples.append((time.perf_counter() - start) * 1000.0)
        if proc.returncode != 0:
            raise RuntimeError(f"gitassist get failed: {proc.stderr.decode()[:500]}")
    bare = [
        timed(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True)) for _ in range(5)
    ]
    imports = import_profile(repo, ids[0])
    return {"cli_get": summarize(samples), "python_c_pass": summarize(bare), "imports": imports}


def import_profile(repo: Path, aid: str) -> dict[str, Any]:
    """``python -X importtime`` of ``gitassist get``: is langgraph imported, what costs most."""
    code = (
        "import sys; from gitassist.cli.main import main; "
        "sys.argv = ['gitassist', *sys.argv[1:]]; main()"
    )
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code, "get", aid, "--json"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    modules: list[tuple[str, int]] = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        raw = line.removeprefix("import time:").split("|")
        if not raw[1].strip().isdigit():
            continue
        modules.append((raw[2][1:], int(raw[1])))  # name keeps its nesting indent
    names = [m for m, _ in modules]
    top_level = [(m, us) for m, us in modules if not m.startswith(" ")]
    top_level.sort(key=lambda x: -x[1])
    heavy = (
        "langgraph",
        "langchain_core",
        "langchain",
        "jsonschema",
        "pydantic",
        "pygit2",
        "ruamel",
        "rich",
        "click",
    )
    return {
        "langgraph_imported": any(n.strip().startswith("langgraph") for n in names),
        "langchain_imported": any(n.strip().startswith("langchain") for n in names),
        "modules": len(names),
        "total_import_ms": round(sum(us for _, us in top_level) / 1000, 1),
        "imported": sorted({h for h in heavy for n in names if n.strip().split(".")[0] == h}),
        "top_level_ms": {m: round(us / 1000, 1) for m, us in top_level[:8]},
    }


def bench_versions(repo: Path, top: dict[str, int], repeats: int) -> dict[str, Any]:
    from gitassist.client import get_sync_client

    client = get_sync_client(repo=repo)
    busiest = sorted(top, key=lambda a: -top[a])[:repeats]
    client.assistants.get_versions(busiest[-1])  # warm the refs
    samples = [timed(lambda a=a: client.assistants.get_versions(a)) for a in busiest]
    deep = [
        timed(lambda a=a: client.assistants.get_versions(a, limit=10, offset=max(0, top[a] - 10)))
        for a in busiest[: max(3, repeats // 3)]
    ]
    return {
        "get_versions": summarize(samples),
        "get_versions_oldest_page": summarize(deep),
        "versions_of_busiest": top[busiest[0]],
    }


def bench_client_ops(repo: Path, ids: list[str], repeats: int) -> dict[str, Any]:
    from gitassist.client import get_sync_client

    client = get_sync_client(repo=repo)
    a = client.assistants
    picks = ids[:repeats]
    samples: dict[str, list[float]] = {"get": [], "update": [], "set_latest": [], "create": []}
    a.get(ids[-1])  # warm
    for aid in picks:
        samples["get"].append(timed(lambda x=aid: a.get(x)))
    for k, aid in enumerate(picks):
        ctx = {"model_name": "openai", "system_prompt": f"bench update {k}", "temperature": 0.5}
        samples["update"].append(timed(lambda x=aid, c=ctx: a.update(x, context=c)))
    for aid in picks:
        samples["set_latest"].append(timed(lambda x=aid: a.set_latest(x, 1)))
    stamp = int(time.time())
    for k in range(repeats):
        samples["create"].append(
            timed(
                lambda k=k: a.create(
                    "agent",
                    context={"model_name": "openai", "temperature": 0.1},
                    name=f"bench-fresh-{stamp}-{k:04d}",
                )
            )
        )
    return {op: summarize(v) for op, v in samples.items()}


def pair(into: dict[str, list[float]], ours: tuple[Any, ...], theirs: tuple[Any, ...]) -> list[Any]:
    """Time ``ours`` then ``theirs`` (each ``(fn, *args)``), one sample each; their results."""
    out = []
    for side, (fn, *args) in (("gitassist", ours), ("server", theirs)):
        start = time.perf_counter()
        out.append(fn(*args))
        into[side].append((time.perf_counter() - start) * 1000)
    return out


def bench_interleaved(
    work: Path, ids: list[str], top: dict[str, int], n: int, repeats: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The client operations on gitassist and on a real server holding ``n`` assistants,
    sample by sample in turn (gitassist, server, gitassist, ...), so both see the same noise.

    ``get_versions`` returns the same number of rows on both sides: the server's assistants
    have 2 versions after the update phase (create + update), so both ask for ``limit=2``, and
    gitassist's picks are assistants with at least 2 versions. The server keeps everything in
    memory (langgraph-runtime-inmem) and each of its samples includes a loopback HTTP round
    trip (~1 ms)."""
    import asyncio
    import tempfile

    from langgraph_sdk import get_sync_client as server_client

    from bench.server_ops import _fill
    from gitassist.client import get_sync_client
    from tests.lgserver import DEFAULT_GRAPH_ID as GRAPH
    from tests.lgserver import start_server, write_tiny_project

    ours = get_sync_client(repo=work).assistants
    rng = random.Random(2)
    picks = ids[:repeats]
    multi = [a for a in sorted(top, key=lambda a: -top[a]) if top[a] >= 2][:repeats] or picks
    samples: dict[str, dict[str, list[float]]] = {
        op: {"gitassist": [], "server": []} for op in SERVER_OPS
    }
    rows: dict[str, list[int]] = {"gitassist": [], "server": []}
    with tempfile.TemporaryDirectory(prefix="bench-store-server-") as tmp:
        project = write_tiny_project(Path(tmp) / "project")
        with start_server(project, log_path=Path(tmp) / "server.log") as server:
            t0 = time.perf_counter()
            server_ids = asyncio.run(_fill(server.url, n, 16))
            fill_s = time.perf_counter() - t0
            client = server_client(url=server.url, api_key=None, timeout=120)
            theirs = client.assistants
            targets = rng.sample(server_ids, min(repeats, len(server_ids)))
            targets = [targets[i % len(targets)] for i in range(repeats)]
            try:
                for k in range(3):  # connections, first-call effects
                    theirs.get(server_ids[k])
                    ours.get(ids[-1 - k])
                for k in range(repeats):
                    g, t = picks[k % len(picks)], targets[k]
                    pair(samples["get"], (ours.get, g), (theirs.get, t))
                for k in range(repeats):
                    g, t = picks[k % len(picks)], targets[k]
                    gctx = {"model_name": "openai", "system_prompt": f"u {k}", "temperature": 0.5}
                    sctx = {"greeting": f"updated {k}", "temperature": 0.9}
                    pair(
                        samples["update"],
                        (partial(ours.update, context=gctx), g),
                        (partial(theirs.update, context=sctx), t),
                    )
                for k in range(repeats):
                    g, t = picks[k % len(picks)], targets[k]
                    pair(samples["set_latest"], (ours.set_latest, g, 1), (theirs.set_latest, t, 1))
                for k in range(repeats):
                    g, t = multi[k % len(multi)], targets[k]
                    got = pair(
                        samples["get_versions"],
                        (partial(ours.get_versions, limit=2), g),
                        (partial(theirs.get_versions, limit=2), t),
                    )
                    rows["gitassist"].append(len(got[0]))
                    rows["server"].append(len(got[1]))
                stamp = int(time.time())
                for k in range(repeats):
                    gname, sname = f"bench-fresh-{stamp}-{k:04d}", f"fresh-{k:04d}"
                    pair(
                        samples["create"],
                        (
                            partial(ours.create, context={"model_name": "openai"}, name=gname),
                            "agent",
                        ),
                        (partial(theirs.create, context={"greeting": "x"}, name=sname), GRAPH),
                    )
            finally:
                client.http.client.close()
    mine = {op: summarize(v["gitassist"]) for op, v in samples.items()}
    server_ops = {op: summarize(v["server"]) for op, v in samples.items()}
    server_result = {
        "ops": server_ops,
        "interleaved": True,
        "fill_s": round(fill_s, 2),
        "startup_s": round(server.startup_seconds, 3),
        "get_versions_rows": {k: sorted(set(v)) for k, v in rows.items()},
    }
    return mine, server_result


def run_size(
    n: int, commits: int, repeats: int, *, quick: bool, server: bool = False
) -> dict[str, Any]:
    info = ensure_repo(n, commits)
    work = copy_repo(Path(info.path), RESULTS / "work" / f"store-n{n}-c{commits}")
    top = recorded_ids(work)
    rng = random.Random(1)
    ids = rng.sample(sorted(top), min(len(top), repeats + 1))
    out: dict[str, Any] = {"assistants": n, "commits": commits, "repo": asdict(info)}
    print(f"[bench] n={n} c={commits}: resolve", file=sys.stderr)
    out.update(bench_resolve(work, ids, fresh_repeats=min(repeats, 10 if quick else 20)))
    print(f"[bench] n={n} c={commits}: gitassist get (process)", file=sys.stderr)
    out.update(bench_cli_get(work, ids[: (5 if quick else 15)]))
    print(f"[bench] n={n} c={commits}: get_versions", file=sys.stderr)
    out.update(bench_versions(work, top, repeats))
    print(f"[bench] n={n} c={commits}: create/update/set_latest", file=sys.stderr)
    if server:
        print(f"[bench] n={n} c={commits}: interleaved with the server", file=sys.stderr)
        mine, out["server"] = bench_interleaved(work, ids, top, n, repeats)
        out["client"] = {op: mine[op] for op in ("get", "update", "set_latest", "create")}
        out["get_versions_equal_rows"] = mine["get_versions"]
    else:
        out["client"] = bench_client_ops(work, ids, repeats)
    return out


# --------------------------------------------------------------------------- report


def ratios(ours: dict[str, Any], server: dict[str, Any] | None) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    mine = {**ours["client"], "get_versions": ours["get_versions"]}
    for op in SERVER_OPS:
        theirs = (server or {}).get("ops", {}).get(op)
        if theirs and mine.get(op):
            out[op] = round(theirs["median_ms"] / mine[op]["median_ms"], 2)
        else:
            out[op] = None
    return out


def table(results: dict[str, Any]) -> str:
    rows = [
        ("size", "operation", "gitassist med", "p90", "server med", "p90", "server/ours", "target")
    ]
    for key, res in results["sizes"].items():
        server = results["server"].get(str(res["assistants"]))
        sops = (server or {}).get("ops", {})
        items: list[tuple[str, dict[str, Any], str | None, str]] = [
            ("resolve (in-process, new id)", res["resolve"], None, "< 1 ms"),
            ("resolve (warm, same id)", res["resolve_warm"], None, ""),
            ("resolve (new Store each)", res["resolve_fresh"], None, ""),
            ("gitassist get (process)", res["cli_get"], None, "< 350 ms"),
            ("python -c pass", res["python_c_pass"], None, ""),
            ("client.get", res["client"]["get"], "get", ""),
            (
                "get_versions (busiest, 10 rows)",
                res["get_versions"],
                None if "get_versions_equal_rows" in res else "get_versions",
                "< 50 ms" if res["commits"] >= 100_000 else "",
            ),
            *(
                [
                    (
                        "get_versions (2 rows, both)",
                        res["get_versions_equal_rows"],
                        "get_versions",
                        "",
                    )
                ]
                if "get_versions_equal_rows" in res
                else []
            ),
            ("get_versions (oldest page)", res["get_versions_oldest_page"], None, ""),
            ("create", res["client"]["create"], "create", ""),
            ("update", res["client"]["update"], "update", "< server"),
            ("set_latest", res["client"]["set_latest"], "set_latest", "flat in N"),
        ]
        for label, ours, sop, target in items:
            theirs = sops.get(sop) if sop else None
            ratio = f"{theirs['median_ms'] / ours['median_ms']:.1f}x" if theirs else ""
            rows.append(
                (
                    key,
                    label,
                    f"{ours['median_ms']:.2f}",
                    f"{ours['p90_ms']:.2f}",
                    f"{theirs['median_ms']:.2f}" if theirs else "",
                    f"{theirs['p90_ms']:.2f}" if theirs else "",
                    ratio,
                    target,
                )
            )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def checks(results: dict[str, Any]) -> list[str]:
    """The targets of issue 2, each as a PASS/FAIL line."""
    out = []
    sizes = results["sizes"]
    for key, res in sizes.items():
        out.append(_check(f"{key} resolve median < 1 ms", res["resolve"]["median_ms"] < 1.0))
        out.append(_check(f"{key} gitassist get < 350 ms", res["cli_get"]["median_ms"] < 350))
        out.append(
            _check(
                f"{key} gitassist get does not import langgraph",
                not res["imports"]["langgraph_imported"],
            )
        )
        if res["commits"] >= 100_000:
            out.append(_check(f"{key} get_versions < 50 ms", res["get_versions"]["median_ms"] < 50))
        server = results["server"].get(str(res["assistants"]))
        if server:
            out.append(
                _check(
                    f"{key} update faster than the server",
                    res["client"]["update"]["median_ms"] < server["ops"]["update"]["median_ms"],
                )
            )
    by_n = {res["assistants"]: res for res in sizes.values()}
    if len(by_n) >= 2:
        small, large = by_n[min(by_n)], by_n[max(by_n)]
        a = small["client"]["set_latest"]["median_ms"]
        b = large["client"]["set_latest"]["median_ms"]
        out.append(
            _check(
                f"set_latest flat: {b:.2f} ms at {max(by_n)} vs {a:.2f} ms at "
                f"{min(by_n)} (ratio {b / a:.2f}, allowed 1.5)",
                b <= 1.5 * a,
            )
        )
    return out


def _check(label: str, ok: bool) -> str:
    return f"{'PASS' if ok else 'FAIL'}  {label}"


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "git": subprocess.run(
            ["git", "--version"], capture_output=True, text=True, check=False
        ).stdout.strip(),
    }


def parse_size(text: str) -> tuple[int, int]:
    n, _, c = text.partition(":")
    return int(n), int(c or 10 * int(n))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--size",
        action="append",
        type=parse_size,
        metavar="N:C",
        help="assistants:commits (repeatable; default 1000:10000 10000:100000)",
    )
    parser.add_argument("--repeats", type=int, default=30, help="samples per operation")
    parser.add_argument("--no-server", action="store_true", help="skip the langgraph dev server")
    parser.add_argument(
        "--quick", action="store_true", help="1000:2000 only, 10 repeats (under 2 minutes)"
    )
    parser.add_argument("--out", type=Path, help="JSON file (default bench/results/store-*.json)")
    args = parser.parse_args(argv)
    sizes = args.size or ([(1000, 2000)] if args.quick else [(1000, 10_000), (10_000, 100_000)])
    repeats = 10 if args.quick and args.repeats == 30 else args.repeats
    results: dict[str, Any] = {
        "machine": machine(),
        "repeats": repeats,
        "sizes": {},
        "server": {},
        "ratios": {},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = args.out or RESULTS / f"store-{time.strftime('%Y%m%d-%H%M%S')}.json"
    for n, c in sizes:  # results are written as each size finishes
        res = run_size(n, c, repeats, quick=args.quick, server=not args.no_server)
        results["sizes"][f"{n}/{c}"] = res
        if "server" in res:
            results["server"][str(n)] = res.pop("server")
        server = results["server"].get(str(n))
        if server and "get_versions_equal_rows" in res:  # compare equal row counts
            server = {**server, "ops": dict(server["ops"])}
        results["ratios"][f"{n}/{c}"] = ratios(
            {**res, "get_versions": res.get("get_versions_equal_rows", res["get_versions"])},
            server,
        )
        out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"[bench] wrote {out}", file=sys.stderr)
    results["checks"] = checks(results)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print()
    for key, res in results["sizes"].items():
        imp = res["imports"]
        print(
            f"{key}: gitassist get imports langgraph: {imp['langgraph_imported']}; "
            f"heavy modules: {', '.join(imp['imported'])}"
        )
    print("\n".join(results["checks"]))
    print(f"\nJSON: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
