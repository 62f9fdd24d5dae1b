"""``gitassist apply`` of a big merge, and the same refs written one by one (issue 4).

Starting from a fully applied repository (default 10,000 assistants, 100,000 commits, from
``bench/generate.py``), a copy gets a branch of 100 commits that change 1,000 assistants
(10 a commit, one real content change each), merged into ``main`` with ``git merge --no-ff``.
Then, R times, the refs are reset (``.git/packed-refs`` restored from a copy, loose refs under
``refs/assistants`` and ``refs/gitassist`` deleted) and ``apply(Store(path))`` is timed.
Also measured: one ``gitassist apply`` as a process, a cProfile of one apply, and writing the
same ref updates one by one (pygit2 ``references.create`` per ref, ``git update-ref`` per ref)
and as one ``git update-ref --stdin`` transaction.

Usage::

    python bench/bench_apply.py [--assistants 10000 --commits 100000] [--touch 1000]
                                [--merge-commits 100] [--repeats 5] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.generate import IDENT, RESULTS, copy_repo, ensure_repo  # noqa: E402

VENV_BIN = Path(sys.executable).parent
PROMPT = re.compile(r'system_prompt: "[^"]*"')
OWN_REF_DIRS = ("refs/assistants", "refs/gitassist")


def git(repo: Path, *args: str, stdin: bytes | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, input=stdin, capture_output=True, check=True)
    return proc.stdout.decode()


def summarize(samples: list[float]) -> dict[str, float]:
    p90 = (
        statistics.quantiles(samples, n=10, method="inclusive")[8]
        if len(samples) > 1
        else samples[0]
    )
    return {
        "median_s": round(statistics.median(samples), 3),
        "p90_s": round(p90, 3),
        "min_s": round(min(samples), 3),
        "max_s": round(max(samples), 3),
        "n": len(samples),
    }


# --------------------------------------------------------------------------- the merge


def add_merge(repo: Path, touch: int, commits: int, seed: int) -> dict[str, Any]:
    """A ``feature`` branch of ``commits`` commits changing ``touch`` assistants, merged."""
    files = sorted(p.name for p in (repo / "assistants").glob("*.yaml"))
    rng = random.Random(seed)
    picked = rng.sample(files, touch)
    per = -(-touch // commits)
    when = int(git(repo, "log", "-1", "--format=%ct", "main").strip()) + 60
    stream = io.BytesIO()
    for k in range(commits):
        chunk = picked[k * per : (k + 1) * per]
        if not chunk:
            break
        msg = f"feature: retune {len(chunk)} assistants ({k + 1}/{commits})\n".encode()
        stream.write(b"commit refs/heads/feature\n")
        stream.write(f"author {IDENT} {when} +0000\ncommitter {IDENT} {when} +0000\n".encode())
        stream.write(b"data %d\n" % len(msg) + msg)
        if k == 0:
            stream.write(b"from refs/heads/main^0\n")
        for name in chunk:
            text = (repo / "assistants" / name).read_text()
            new, count = PROMPT.subn(f'system_prompt: "merged change {k}"', text, count=1)
            assert count == 1, name
            data = new.encode()
            stream.write(f"M 100644 inline assistants/{name}\n".encode())
            stream.write(b"data %d\n" % len(data) + data + b"\n")
        stream.write(b"\n")
        when += 60
    stream.write(b"done\n")
    git(repo, "fast-import", "--quiet", "--done", stdin=stream.getvalue())
    t0 = time.perf_counter()
    git(
        repo,
        "merge",
        "--no-ff",
        "-q",
        "-m",
        f"Merge branch 'feature' ({touch} assistants)",
        "feature",
    )
    return {
        "touched": touch,
        "branch_commits": commits,
        "merge_s": round(time.perf_counter() - t0, 3),
        "head": git(repo, "rev-parse", "HEAD").strip(),
    }


# --------------------------------------------------------------------------- ref state


class RefState:
    """Snapshot of packed-refs; restoring also deletes loose refs gitassist may have made."""

    def __init__(self, repo: Path) -> None:
        self.gitdir = repo / ".git"
        self.saved = self.gitdir / "packed-refs.bench-saved"
        self.loose_before = self._loose()
        if self.loose_before:
            raise RuntimeError(f"expected no loose gitassist refs, found {len(self.loose_before)}")
        shutil.copyfile(self.gitdir / "packed-refs", self.saved)

    def _loose(self) -> list[Path]:
        out: list[Path] = []
        for sub in OWN_REF_DIRS:
            base = self.gitdir / sub
            if base.exists():
                out.extend(p for p in base.rglob("*") if p.is_file())
        return out

    def restore(self) -> None:
        for path in self._loose():
            path.unlink()
        shutil.copyfile(self.saved, self.gitdir / "packed-refs")
        for lock in (self.gitdir / "packed-refs.lock", self.gitdir / "gitassist" / "journal"):
            lock.unlink(missing_ok=True)


class Counter:
    """Counts RefDB transactions and packed-refs rewrites during an apply."""

    def __init__(self) -> None:
        from gitassist import refs

        self.refs = refs
        self.transactions = 0
        self.packed_writes = 0
        self.loose_writes = 0
        self.ref_updates = 0

    def __enter__(self) -> Counter:
        db = self.refs.RefDB
        self._orig = (db.update, db._write_packed, db._update_loose)
        update, write_packed, update_loose = self._orig
        counter = self

        def counted_update(this: Any, updates: Any, message: str, **kwargs: Any) -> None:
            counter.transactions += 1
            counter.ref_updates += len(updates)
            update(this, updates, message, **kwargs)

        def counted_packed(this: Any, *args: Any) -> None:
            counter.packed_writes += 1
            write_packed(this, *args)

        def counted_loose(this: Any, updates: Any, message: str) -> None:
            counter.loose_writes += len(updates)
            update_loose(this, updates, message)

        db.update, db._write_packed, db._update_loose = (  # type: ignore[method-assign]
            counted_update,
            counted_packed,
            counted_loose,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        db = self.refs.RefDB
        db.update, db._write_packed, db._update_loose = self._orig  # type: ignore[method-assign]


def run_apply(repo: Path) -> tuple[float, Any, Counter]:
    from gitassist.apply import apply
    from gitassist.store import Store

    with Counter() as counter:
        t0 = time.perf_counter()
        outcome = apply(Store(repo))
        elapsed = time.perf_counter() - t0
    return elapsed, outcome, counter


# --------------------------------------------------------------------------- one by one


def one_by_one_pygit2(repo: Path, updates: list[tuple[str, str]]) -> float:
    import pygit2

    r = pygit2.Repository(str(repo))
    t0 = time.perf_counter()
    for name, oid in updates:
        r.references.create(name, oid, force=True)
    return time.perf_counter() - t0


def one_by_one_git(repo: Path, updates: list[tuple[str, str]]) -> float:
    t0 = time.perf_counter()
    for name, oid in updates:
        subprocess.run(["git", "update-ref", name, oid], cwd=repo, check=True)
    return time.perf_counter() - t0


def git_stdin_transaction(repo: Path, updates: list[tuple[str, str]]) -> float:
    lines = "start\n" + "".join(f"update {n} {o}\n" for n, o in updates) + "prepare\ncommit\n"
    t0 = time.perf_counter()
    git(repo, "update-ref", "--stdin", stdin=lines.encode())
    return time.perf_counter() - t0


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--assistants", "-n", type=int, default=10_000)
    parser.add_argument("--commits", "-c", type=int, default=100_000)
    parser.add_argument("--touch", type=int, default=1000, help="assistants the merge changes")
    parser.add_argument("--merge-commits", type=int, default=100, help="commits on the branch")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="cProfile one more apply")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)

    info = ensure_repo(args.assistants, args.commits)
    work = RESULTS / "work" / f"apply-n{args.assistants}-c{args.commits}"
    print(f"[apply] copying {info.path} -> {work}", file=sys.stderr)
    copy_repo(Path(info.path), work)
    merge = add_merge(work, args.touch, args.merge_commits, args.seed)
    state = RefState(work)
    results: dict[str, Any] = {
        "repo": info.path,
        "initial_apply_s": info.apply_s,
        "merge": merge,
        "runs_s": [],
    }

    samples: list[float] = []
    outcome = counter = None
    for i in range(args.repeats):
        state.restore()
        elapsed, outcome, counter = run_apply(work)
        samples.append(elapsed)
        print(
            f"[apply] run {i + 1}: {elapsed:.3f}s, {len(outcome.plan.versions)} versions, "
            f"{counter.transactions} transaction(s)",
            file=sys.stderr,
        )
    assert outcome is not None and counter is not None and outcome.result is not None
    results["runs_s"] = [round(s, 3) for s in samples]
    results["apply"] = summarize(samples)
    plan = outcome.plan
    results["plan"] = {
        "commits_walked": plan.commits_walked,
        "versions": len(plan.versions),
        "latest_moves": len(plan.moves),
    }
    results["transactions"] = {
        "refdb_update_calls": counter.transactions,
        "ref_updates": counter.ref_updates,
        "packed_refs_renames": counter.packed_writes,
        "loose_ref_writes": counter.loose_writes,
    }
    updates = [(u.name, u.new) for u in outcome.result.updates if u.new is not None]

    # Idempotence: a second apply right away does nothing.
    t_noop, noop, _ = run_apply(work)
    results["second_apply"] = {"s": round(t_noop, 3), "versions": len(noop.plan.versions)}

    # The whole process, as CI runs it.
    state.restore()
    t0 = time.perf_counter()
    subprocess.run(
        [str(VENV_BIN / "gitassist"), "apply", "--json"], cwd=work, check=True, capture_output=True
    )
    results["cli_apply_s"] = round(time.perf_counter() - t0, 3)

    if args.profile:
        state.restore()
        prof = cProfile.Profile()
        prof.enable()
        run_apply(work)
        prof.disable()
        stats_path = RESULTS / "apply.prof"
        prof.dump_stats(stats_path)
        text = io.StringIO()
        pstats.Stats(prof, stream=text).sort_stats("cumulative").print_stats(30)
        (RESULTS / "apply-profile.txt").write_text(text.getvalue())
        results["profile"] = str(stats_path)

    comparisons: dict[str, float] = {}
    for label, fn in (
        ("pygit2_create_per_ref", one_by_one_pygit2),
        ("git_update_ref_per_ref", one_by_one_git),
        ("git_update_ref_stdin_one_transaction", git_stdin_transaction),
    ):
        state.restore()
        comparisons[label] = round(fn(work, updates), 3)
        print(
            f"[apply] {label}: {comparisons[label]:.3f}s for {len(updates)} refs", file=sys.stderr
        )
    results["one_by_one"] = {
        "refs": len(updates),
        **comparisons,
        "transactions": {
            "pygit2_create_per_ref": len(updates),
            "git_update_ref_per_ref": len(updates),
            "git_update_ref_stdin_one_transaction": 1,
        },
    }
    state.restore()

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = args.out or RESULTS / f"apply-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    a = results["apply"]
    print(
        f"apply of a merge touching {args.touch} assistants over {args.merge_commits} commits "
        f"({args.assistants} assistants, {args.commits} commits):"
    )
    print(
        f"  median {a['median_s']:.3f}s  p90 {a['p90_s']:.3f}s  runs {results['runs_s']}  "
        f"(target < 3 s: {'PASS' if a['median_s'] < 3 else 'FAIL'})"
    )
    print(
        f"  gitassist apply as a process: {results['cli_apply_s']:.3f}s; "
        f"second apply: {results['second_apply']['s']:.3f}s, "
        f"{results['second_apply']['versions']} versions"
    )
    t = results["transactions"]
    print(
        f"  ref transactions: {t['refdb_update_calls']} ({t['ref_updates']} refs, "
        f"{t['packed_refs_renames']} packed-refs rename(s))"
    )
    print(
        f"  same {len(updates)} refs one by one: "
        f"pygit2 {comparisons['pygit2_create_per_ref']:.3f}s,"
        f" git update-ref {comparisons['git_update_ref_per_ref']:.3f}s; one git update-ref "
        f"--stdin transaction {comparisons['git_update_ref_stdin_one_transaction']:.3f}s"
    )
    print(f"JSON: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
