"""Issue 13 target 3: ``update`` / ``create`` beside the bare-pygit2 floor of the same git work.

Builds (and caches under ``bench/results/repos/write-n<N>-f<F>/``) a repository of N
assistants in one commit, flat in ``assistants/`` or spread over F subfolders
(``assistants/g000/``…), applied once. Two hard-linked copies are made (``copy_repo``): one
written by gitassist, one by the floor, so both grow the same way. Then, **sample by sample,
interleaved** (so both see the same machine noise):

- ``gitassist``: ``get_sync_client(repo=A).assistants.update(id, context=…)`` (in-process) and
  ``…create(…)``;
- ``floor``: the SAME git work on copy B with bare pygit2 calls and no checks: write the blob,
  build the new tree with the one changed entry (and its parent trees), write the work-tree
  file (temporary file + rename) and update ``.git/index``, commit on the branch
  (``create_commit`` moving ``refs/heads/main``), write the version tag object and its ref, the
  pointer commit and ``latest``, the apply record (one index shard blob, the shard tree, the
  root tree, the commit) and its ref. No parsing, validation, locking, compare-and-swap,
  hooks or journal: what any git-backed store must at least do for one recorded change;
- ``server`` (``--server``): the same call on a real ``langgraph dev`` holding N assistants
  (its data in memory; every sample includes one loopback HTTP round trip).

Medians, the ratio gitassist / floor and the raw samples go to
``bench/results/write-n<N>-f<F>.json`` as each size finishes.

Usage::

    python bench/bench_write.py -n 1000 --repeats 40
    python bench/bench_write.py -n 10000 --subfolders 100 --repeats 20 --server
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.generate import (  # noqa: E402
    GITIGNORE,
    LANGGRAPH_JSON,
    MODELS,
    RESULTS,
    Assistant,
    _blob,
    _commit_header,
    _git,
    copy_repo,
    render,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    import pygit2

AGENT_PY = '"""Placeholder graph module: benchmarks never import it."""\n\ngraph = None\n'
SCHEMA = json.dumps(
    {
        "type": "object",
        "properties": {
            "model_name": {"type": "string"},
            "system_prompt": {"type": "string"},
            "temperature": {"type": "number"},
        },
    },
    indent=2,
)
APPLIED = "refs/gitassist/applied"
BRANCH = "refs/heads/main"


# --------------------------------------------------------------------------- the repository


def _path(i: int, folders: int) -> str:
    sub = f"g{i % folders:03d}/" if folders else ""
    return f"assistants/{sub}bench-{i:06d}.yaml"


def build(n: int, folders: int) -> Path:
    """The cached repository of ``n`` assistants (one commit), applied once."""
    path = RESULTS / "repos" / f"write-n{n}-f{folders}"
    ready = path / ".git" / "bench-write.json"
    if ready.exists():
        return path
    if path.exists():
        subprocess.run(["rm", "-rf", str(path)], check=True)
    path.mkdir(parents=True)
    _git(path, "init", "-q", "-b", "main")
    _git(path, "config", "user.name", "Bench Runner")
    _git(path, "config", "user.email", "bench@example.com")
    _git(path, "config", "gc.auto", "0")  # no packing in the middle of a sample
    rng = random.Random(0)
    proc = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=path, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    out = proc.stdin
    _commit_header(out, 1, 1_700_000_000, f"Add {n} assistants\n", first=True)
    _blob(out, ".gitignore", GITIGNORE.encode())
    _blob(out, "langgraph.json", LANGGRAPH_JSON.encode())
    _blob(out, "graphs/agent.py", AGENT_PY.encode())
    _blob(out, "schemas/agent.context.json", (SCHEMA + "\n").encode())
    for i in range(n):
        aid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        a = Assistant(aid, i, _path(i, folders), MODELS[i % 5], f"You are assistant {i}.", 0.5)
        _blob(out, a.path, render(a))
    out.close()
    if proc.wait() != 0:
        raise RuntimeError("git fast-import failed")
    _git(path, "reset", "-q", "--hard", "main")
    from gitassist.apply import apply
    from gitassist.store import Store

    apply(Store(path))
    ready.write_text(json.dumps({"assistants": n, "folders": folders}) + "\n")
    return path


def assistants_of(repo: Path) -> list[tuple[str, str]]:
    """(id, path) of every recorded assistant, from the apply record's index shards."""
    import pygit2

    r = pygit2.Repository(str(repo))
    applied = r.references[APPLIED].peel(pygit2.Commit)
    shards = r.get(applied.tree["index"].id)
    assert isinstance(shards, pygit2.Tree)
    out = []
    for item in shards:
        blob = r.get(item.id)
        assert isinstance(blob, pygit2.Blob)
        for line in blob.data.decode().splitlines():
            aid, path, *_ = line.split("\t")
            out.append((aid, path))
    return sorted(out)


# --------------------------------------------------------------------------- the floor


class Floor:
    """The git work of one recorded update/create, done with bare pygit2 (no checks)."""

    def __init__(self, root: Path) -> None:
        import pygit2

        self.pygit2 = pygit2
        self.root = root
        self.repo = pygit2.Repository(str(root))
        self.sig = pygit2.Signature("Bench Runner", "bench@example.com")
        self.numbers: dict[str, int] = {}  # id -> its highest version (the floor keeps count)

    def _tree_with(self, tree: pygit2.Tree | None, parts: list[str], blob: pygit2.Oid) -> Any:
        repo, pg = self.repo, self.pygit2
        builder = repo.TreeBuilder(tree) if tree is not None else repo.TreeBuilder()
        if len(parts) == 1:
            builder.insert(parts[0], blob, pg.GIT_FILEMODE_BLOB)
        else:
            sub = None
            existing = builder.get(parts[0])
            if existing is not None:
                sub = repo.get(existing.id)
            builder.insert(parts[0], self._tree_with(sub, parts[1:], blob), pg.GIT_FILEMODE_TREE)
        return builder.write()

    def write(self, aid: str, path: str, text: str) -> None:
        pg, repo = self.pygit2, self.repo
        head = repo.references[BRANCH].peel(pg.Commit)
        blob = repo.create_blob(text.encode())
        tree = self._tree_with(head.tree, path.split("/"), blob)
        target = self.root / path
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
        index = repo.index
        index.read(False)
        index.add(path)
        index.write()
        commit = repo.create_commit(BRANCH, self.sig, self.sig, "Update\n", tree, [head.id])
        number = self.numbers.get(aid, 0) + 1
        self.numbers[aid] = number
        now = int(time.time())
        data: dict[str, Any] = {"assistant_id": aid, "version": number, "commit": str(commit)}
        data |= {"path": path, "blob": str(blob), "reason": "update", "ci": {}}
        tag_data = data | {"graph_id": "agent", "committed_at": now, "author": "Bench Runner"}
        raw = (
            f"object {commit}\ntype commit\ntag assistants/{aid}/v{number}\n"
            f"tagger Bench Runner <bench@example.com> {now} +0000\n\n"
            f"gitassist: version {number}\n\n{json.dumps(tag_data, sort_keys=True, indent=2)}\n"
        )
        tag = repo.odb.write(pg.enums.ObjectType.TAG, raw.encode())
        repo.references.create(f"refs/assistants/{aid}/versions/{number}", tag)
        latest = f"refs/assistants/{aid}/latest"
        old = repo.references.get(latest)
        parents = [old.target] if old is not None else []
        data |= {"tag": str(tag), "max_version": number, "deleted": False}
        data["previous"] = number - 1 if number > 1 else None
        message = f"gitassist: latest -> version {number}\n\n"
        message += json.dumps(data, sort_keys=True, indent=2) + "\n"
        pointer = repo.create_commit(None, self.sig, self.sig, message, tree, parents)
        repo.references.create(latest, pointer, force=True)
        applied = repo.references[APPLIED].peel(pg.Commit)
        shards = repo.get(applied.tree["index"].id)
        assert isinstance(shards, pg.Tree)
        try:
            shard = repo.get(shards[aid[:2]].id)
            lines = shard.data.decode().splitlines(keepends=True) if shard is not None else []
        except KeyError:
            lines = []
        lines = [x for x in lines if not x.startswith(aid)]
        lines.append(f"{aid}\t{path}\t{blob}\tagent\n")
        shard_blob = repo.create_blob("".join(sorted(lines)).encode())
        builder = repo.TreeBuilder(shards)
        builder.insert(aid[:2], shard_blob, pg.GIT_FILEMODE_BLOB)
        root = repo.TreeBuilder()
        root.insert("index", builder.write(), pg.GIT_FILEMODE_TREE)
        info = {"branch": "main", "commit": str(commit), "absent": {}, "versions": 1}
        info |= {"reason": "update", "ci": {}}
        message = f"gitassist update: main\n\n{json.dumps(info, sort_keys=True, indent=2)}\n"
        record = repo.create_commit(None, self.sig, self.sig, message, root.write(), [applied.id])
        repo.references.create(APPLIED, record, force=True)


def _text(aid: str, i: int, path: str, prompt: str) -> str:
    name = Path(path).stem
    return (
        "# yaml-language-server: $schema=../schemas/assistant.schema.json\n"
        f"assistant_id: {aid}\ngraph_id: agent\nname: {name}\n"
        f'context:\n  model_name: openai\n  system_prompt: "{prompt}"\n  temperature: 0.5\n'
        f"metadata:\n  team: team-{i % 20}\n  tier: {i % 3}\n"
    )


# --------------------------------------------------------------------------- the server


class ServerSide:
    """A real ``langgraph dev`` holding ``n`` assistants (``bench/server_ops.py``'s fill)."""

    def __init__(self, n: int) -> None:
        from bench.server_ops import _fill
        from tests.lgserver import start_server, write_tiny_project

        self.tmp = tempfile.TemporaryDirectory(prefix="bench-write-server-")
        project = write_tiny_project(Path(self.tmp.name) / "project")
        self.ctx = start_server(project, log_path=Path(self.tmp.name) / "server.log")
        self.server = self.ctx.__enter__()
        self.ids = asyncio.run(_fill(self.server.url, n, 16))
        from langgraph_sdk import get_sync_client

        self.client = get_sync_client(url=self.server.url, api_key=None, timeout=120)

    def close(self) -> None:
        self.client.http.client.close()
        self.ctx.__exit__(None, None, None)
        self.tmp.cleanup()


# --------------------------------------------------------------------------- measuring


def _ms(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU (this process: user + system) milliseconds of one call."""
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    return (time.perf_counter() - start) * 1000, (time.process_time() - cpu) * 1000


def _summary(samples: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(samples), 3),
        "min_ms": round(min(samples), 3),
        "mean_ms": round(statistics.mean(samples), 3),
    }


def run_size(
    n: int, folders: int, repeats: int, with_server: bool, warmup: int = 3
) -> dict[str, Any]:
    from gitassist.client import get_sync_client

    base = build(n, folders)
    work = RESULTS / "work"
    repo_a = copy_repo(base, work / f"write-a-n{n}-f{folders}")
    repo_b = copy_repo(base, work / f"write-b-n{n}-f{folders}")
    for repo in (repo_a, repo_b):  # as in a real repository: each latest ref has its reflog
        logs = base / ".git" / "logs" / "refs" / "assistants"
        if logs.exists():
            shutil.copytree(logs, repo / ".git" / "logs" / "refs" / "assistants")
    everyone = assistants_of(repo_a)
    picks = random.Random(1).sample(everyone, repeats + warmup)
    index_of = {aid: int(Path(path).stem.split("-")[1]) for aid, path in everyone}
    client = get_sync_client(repo=repo_a).assistants
    floor = Floor(repo_b)
    floor.numbers = dict.fromkeys(index_of, 1)  # the apply recorded version 1 of each
    server = ServerSide(n) if with_server else None
    samples: dict[str, list[float]] = {k: [] for k in ("update", "floor_update", "server_update")}
    samples |= {k: [] for k in ("create", "floor_create", "server_create")}
    cpu_samples: dict[str, list[float]] = {}
    stamp = int(time.time())
    try:
        for k, (aid, path) in enumerate(picks):
            prompt = f"bench write {stamp} {k}"
            ctx = {"model_name": "openai", "system_prompt": prompt, "temperature": 0.5}
            text = _text(aid, index_of[aid], path, prompt)
            updates: list[tuple[str, Callable[[], object]]] = [
                ("update", partial(client.update, aid, context=ctx)),
                ("floor_update", partial(floor.write, aid, path, text)),
            ]
            if server is not None:
                sid = server.ids[k % len(server.ids)]
                updates.append(
                    ("server_update", partial(server.client.assistants.update, sid, context=ctx))
                )
            name = f"fresh-{stamp}-{k:04d}"
            sub = f"g{k % folders:03d}" if folders else None
            new_id = str(uuid.uuid4())
            new_path = f"assistants/{sub + '/' if sub else ''}{name}.yaml"
            creates: list[tuple[str, Callable[[], object]]] = [
                ("create", partial(client.create, "agent", context=ctx, name=name, dir=sub)),
                (
                    "floor_create",
                    partial(floor.write, new_id, new_path, _text(new_id, k, new_path, prompt)),
                ),
            ]
            if server is not None:
                creates.append(
                    (
                        "server_create",
                        partial(
                            server.client.assistants.create,
                            "agent",
                            context={"greeting": prompt},
                            name=name,
                        ),
                    )
                )
            if k % 2:  # alternate who goes first within each kind of sample
                updates.reverse()
                creates.reverse()
            order = updates + creates
            for label, fn in order:
                took, cpu = _ms(fn)
                if k >= warmup:
                    samples[label].append(took)
                    cpu_samples.setdefault(label, []).append(cpu)
    finally:
        if server is not None:
            server.close()
    stats = {k: _summary(v) for k, v in samples.items() if v}
    ratios = {
        "update_over_floor": round(
            stats["update"]["median_ms"] / stats["floor_update"]["median_ms"], 2
        ),
        "create_over_floor": round(
            stats["create"]["median_ms"] / stats["floor_create"]["median_ms"], 2
        ),
        # pair by pair: the median of per-sample ratios (robust to drifting load)
        "update_over_floor_paired": round(
            statistics.median(
                a / b for a, b in zip(samples["update"], samples["floor_update"], strict=True)
            ),
            2,
        ),
        "create_over_floor_paired": round(
            statistics.median(
                a / b for a, b in zip(samples["create"], samples["floor_create"], strict=True)
            ),
            2,
        ),
    }
    cpu = {k: round(statistics.median(v), 3) for k, v in cpu_samples.items()}
    ratios["update_over_floor_cpu"] = round(cpu["update"] / cpu["floor_update"], 2)
    ratios["create_over_floor_cpu"] = round(cpu["create"] / cpu["floor_create"], 2)
    if server is not None:
        ratios["update_over_server"] = round(
            stats["update"]["median_ms"] / stats["server_update"]["median_ms"], 2
        )
        ratios["create_over_server"] = round(
            stats["create"]["median_ms"] / stats["server_create"]["median_ms"], 2
        )
    return {
        "assistants": n,
        "subfolders": folders,
        "repeats": repeats,
        "load_before": os.getloadavg(),
        "stats": stats,
        "cpu_median_ms": cpu,
        "ratios": ratios,
        "samples": {k: [round(x, 3) for x in v] for k, v in samples.items() if v},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("-n", type=int, action="append", help="assistants (repeatable)")
    parser.add_argument("--subfolders", type=int, default=0, help="0: flat assistants/")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--server", action="store_true", help="also a real langgraph dev")
    parser.add_argument("--out", type=Path, help="JSON file (one size) or directory")
    args = parser.parse_args(argv)
    for n in args.n or [1000]:
        result = run_size(n, args.subfolders, args.repeats, args.server)
        out = args.out or RESULTS
        if out.suffix != ".json":
            out = out / f"write-n{n}-f{args.subfolders}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
        s, r = result["stats"], result["ratios"]
        print(f"n={n} subfolders={args.subfolders} repeats={args.repeats}")
        for label, v in s.items():
            print(f"  {label:14s} median {v['median_ms']:8.2f} ms  min {v['min_ms']:8.2f} ms")
        print("  cpu medians: " + "  ".join(f"{k}={v}" for k, v in result["cpu_median_ms"].items()))
        print("  " + "  ".join(f"{k}={v}" for k, v in r.items()))
        print(f"  JSON: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
