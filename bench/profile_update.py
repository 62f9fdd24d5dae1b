"""Where one ``update`` spends its time on a large repository.

Copies the cached repository (``bench/generate.py``; 10,000 assistants / 100,000 commits by
default) into ``bench/results/work/``, runs one warm-up update (which also converts an apply
record of the first, unsharded index format), then R updates through
``get_sync_client(repo=...).assistants.update``, each on a different assistant, then R
creates, with the steps of each wrapped in wall-clock timers (inclusive: a step nested in
another is counted in both). The timers add a few microseconds per step, unlike cProfile,
which inflates Python-heavy steps several-fold.

It also times the two pieces of C work that every commit into a flat ``assistants/``
directory pays, in isolation, R times each:

- ``tree rewrite``: ``TreeBuilder(assistants tree)`` + one insert + ``write()`` (the 10,000-entry
  tree object is parsed, re-serialized, hashed, compressed and written as a loose object);
- ``git index``: ``Index.read(force=True)`` + ``add`` + ``write()`` of ``.git/index``.

Usage::

    python bench/profile_update.py [-n 10000 -c 100000] [--repeats 30]
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bench_store import recorded_ids  # noqa: E402
from bench.generate import RESULTS, copy_repo, ensure_repo  # noqa: E402

_totals: dict[str, float] = defaultdict(float)
_active: set[str] = set()


def _wrap(owner: Any, attr: str, label: str) -> None:
    """Replace ``owner.attr`` by a timer that adds its inclusive time to ``label``."""
    fn = getattr(owner, attr)

    @functools.wraps(fn)
    def timed(*args: Any, **kwargs: Any) -> Any:
        if label in _active:  # recursion (``_tree_with``): count the outer call only
            return fn(*args, **kwargs)
        _active.add(label)
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            _totals[label] += time.perf_counter() - start
            _active.discard(label)

    setattr(owner, attr, timed)


def instrument() -> list[str]:
    """Wrap the steps of an update; returns the labels in report order."""
    import gitassist.assistants as A
    import gitassist.commits as M
    import gitassist.document_checks as V
    import gitassist.naming as N
    import gitassist.plan as P
    import gitassist.record as W
    import gitassist.refs as R
    import gitassist.write_commit as C

    steps = [
        (A, "update", "update (all)"),
        (A, "create", "create (all)"),
        (A, "_existing", "  _existing (create: is the id taken)"),
        (A, "new_path", "  new_path (create: free file name)"),
        (A, "render_new", "  render_new (create: ruamel dump)"),
        (N, "find_id", "  find_id"),
        (A, "index_at", "  index_at (apply record + diff to HEAD)"),
        (A, "_update_base", "  _update_base (latest pointer)"),
        (A, "_render_checked", "  _render_checked (splice or round trip, + check_write)"),
        (A, "render_update", "    render_update (ruamel round-trip, when no splice)"),
        (A, "check_write", "    check_write (parse + validate new text)"),
        (A, "commit_and_record", "  commit_and_record"),
        (C, "dirty_paths", "    dirty_paths (reads .git/index)"),
        (C, "make_commit", "    make_commit"),
        (M, "_tree_with", "      _tree_with (rewrite assistants/ tree, root tree)"),
        (C, "make_plan", "    make_plan"),
        (P, "changed_entries", "      changed_entries (C tree diffs)"),
        (V, "entry_problems", "      entry_problems"),
        (C, "publish", "    publish"),
        (M, "write_worktree", "      write_worktree (file + .git/index read/add/write)"),
        (R.RefDB, "update", "      RefDB.update (the one ref transaction, with the files)"),
        (C, "record_updates", "    record_updates (tags, pointers, apply record)"),
        (W, "make_version_tag", "      make_version_tag"),
        (W, "make_pointer", "      make_pointer"),
        (W, "write_index", "      write_index (one index shard)"),
        (C, "from_latest", "    from_latest (the returned assistant)"),
    ]
    for owner, attr, label in steps:
        _wrap(owner, attr, label)
    return [label for _, _, label in steps]


def c_floor(repo_path: Path, repeats: int) -> dict[str, dict[str, float]]:
    """The tree rewrite and the git index read+write, alone, in milliseconds."""
    import pygit2

    repo = pygit2.Repository(str(repo_path))
    head = repo.head.peel(pygit2.Commit)
    sub = repo.get(head.tree["assistants"].id)
    assert isinstance(sub, pygit2.Tree)
    names = [e.name for e in sub][:repeats]
    tree_ms, index_read_ms, index_write_ms = [], [], []
    for k, name in enumerate(names):
        blob = repo.create_blob(f"profile {k} {time.time()}\n".encode())
        start = time.perf_counter()
        builder = repo.TreeBuilder(sub)
        builder.insert(name, blob, pygit2.GIT_FILEMODE_BLOB)
        builder.write()
        tree_ms.append((time.perf_counter() - start) * 1000)
    index = repo.index
    for name in names:
        start = time.perf_counter()
        index.read(True)
        mid = time.perf_counter()
        index.add(f"assistants/{name}")
        index.write()
        end = time.perf_counter()
        index_read_ms.append((mid - start) * 1000)
        index_write_ms.append((end - mid) * 1000)
    return {
        "tree_rewrite": _stats(tree_ms),
        "index_read": _stats(index_read_ms),
        "index_add_write": _stats(index_write_ms),
        "assistants_tree_entries": {"count": len(sub)},
        "git_index_bytes": {"count": (repo_path / ".git" / "index").stat().st_size},
    }


def _stats(ms: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(ms), 2), "mean_ms": round(statistics.mean(ms), 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--assistants", "-n", type=int, default=10_000)
    parser.add_argument("--commits", "-c", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    info = ensure_repo(args.assistants, args.commits)
    work = copy_repo(Path(info.path), RESULTS / "work" / f"profile-n{args.assistants}")
    ids = random.Random(3).sample(sorted(recorded_ids(work)), args.repeats + 1)
    labels = instrument()
    from gitassist.client import get_sync_client

    a = get_sync_client(repo=work).assistants
    ctx = {"model_name": "openai", "system_prompt": "warm-up", "temperature": 0.5}
    a.update(ids[-1], context=ctx)  # warm-up (and format conversion of an old apply record)
    _totals.clear()
    walls = []
    for k, aid in enumerate(ids[:-1]):
        ctx = {"model_name": "openai", "system_prompt": f"profile {k}", "temperature": 0.5}
        start = time.perf_counter()
        a.update(aid, context=ctx)
        walls.append((time.perf_counter() - start) * 1000)
    per_update = {label: round(_totals[label] * 1000 / len(walls), 2) for label in labels}
    _totals.clear()
    create_walls = []
    stamp = int(time.time())
    for k in range(len(walls)):
        start = time.perf_counter()
        a.create("agent", context={"model_name": "openai"}, name=f"profile-{stamp}-{k:04d}")
        create_walls.append((time.perf_counter() - start) * 1000)
    per_create = {
        label: round(_totals[label] * 1000 / len(create_walls), 2)
        for label in labels
        if _totals[label]
    }
    results: dict[str, Any] = {
        "assistants": args.assistants,
        "commits": args.commits,
        "updates": len(walls),
        "wall_median_ms": round(statistics.median(walls), 2),
        "wall_mean_ms": round(statistics.mean(walls), 2),
        "steps_mean_ms": per_update,
        "create_wall_median_ms": round(statistics.median(create_walls), 2),
        "create_steps_mean_ms": per_create,
        "c_floor": c_floor(work, args.repeats),
    }
    out = args.out or RESULTS / f"profile-update-n{args.assistants}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(
        f"{len(walls)} updates: wall median {results['wall_median_ms']} ms, "
        f"mean {results['wall_mean_ms']} ms"
    )
    for label, ms in per_update.items():
        if not label.lstrip().startswith(("create", "_existing", "new_path", "render_new")):
            print(f"{ms:8.2f} ms  {label}")
    print(f"{len(create_walls)} creates: wall median {results['create_wall_median_ms']} ms")
    for label, ms in per_create.items():
        print(f"{ms:8.2f} ms  {label}")
    print(json.dumps(results["c_floor"], indent=2))
    print(f"JSON: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
