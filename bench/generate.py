"""Build large assistant repositories quickly with ``git fast-import``.

A generated repository has ``langgraph.json`` (graph ``agent``), a committed context schema
(``schemas/agent.context.json``), N assistants in ``assistants/`` and C commits in all: the
first adds every file, each later commit changes 1-3 assistant documents. Most changes are real
content changes (a new version); some only reformat the YAML or rename the file (no version).
The whole history is streamed into one ``git fast-import`` (no Python commit loop), the work
tree is checked out once, then ``gitassist.apply.apply`` records every version, which is timed.

Repositories are cached under ``bench/results/repos/`` by their parameters; a cached one is
reused as is (``--force`` rebuilds it). From Python::

    from bench.generate import ensure_repo
    info = ensure_repo(1000, 10_000)      # -> RepoInfo(path, n, commits, ..., apply_s)

Usage::

    python bench/generate.py --assistants 10000 --commits 100000 [--seed 0] [--force]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
REPOS = RESULTS / "repos"
READY = ".bench-repo.json"
FORMAT = 2  # bump when the generated content changes, so old caches are not reused

GRAPH_ID = "agent"
SCHEMA_REF = "../schemas/assistant.schema.json"
MODELS = ("openai", "anthropic", "mistral", "gemini", "llama")
WORDS = ("helpful", "concise", "friendly", "precise", "patient", "curious", "formal", "brief")
LANGGRAPH_JSON = (
    json.dumps({"dependencies": ["."], "graphs": {GRAPH_ID: "./graphs/agent.py:graph"}}, indent=2)
    + "\n"
)
CONTEXT_SCHEMA = (
    json.dumps(
        {
            "title": "ContextSchema",
            "type": "object",
            "properties": {
                "model_name": {"type": "string"},
                "system_prompt": {"type": "string"},
                "temperature": {"type": "number"},
            },
        },
        indent=2,
    )
    + "\n"
)
AGENT_PY = '"""Placeholder graph module: benchmarks never import it."""\n\ngraph = None\n'
GITIGNORE = ".gitassist/\n"
EPOCH = 1_700_000_000
IDENT = "Bench Generator <bench@example.com>"


@dataclass
class Assistant:
    """What the generator knows about one assistant while it writes history."""

    assistant_id: str
    index: int
    path: str
    model: str
    prompt: str
    temperature: float
    style: int = 0  # 0: block style, 1: flow style (same parsed content)
    revision: int = 0


@dataclass
class RepoInfo:
    """A generated repository and what it took to build and apply it."""

    path: str
    assistants: int
    commits: int
    seed: int
    content_changes: int = 0
    format_only: int = 0
    renames: int = 0
    fast_import_s: float = 0.0
    checkout_s: float = 0.0
    apply_s: float = 0.0
    apply_versions: int = 0
    apply_commits_walked: int = 0
    apply_ref_updates: int = 0
    refs_after_apply: int = 0
    packed_refs_bytes: int = 0
    format: int = FORMAT
    extra: dict[str, Any] = field(default_factory=dict)


def repo_dir(n: int, commits: int, seed: int = 0) -> Path:
    return REPOS / f"n{n}-c{commits}-s{seed}"


def render(a: Assistant) -> bytes:
    """The document text; style 1 writes the same content in flow style with a comment."""
    head = (
        f"# yaml-language-server: $schema={SCHEMA_REF}\n"
        f"assistant_id: {a.assistant_id}\n"
        f"graph_id: {GRAPH_ID}\n"
        f"name: bench-{a.index:06d}\n"
    )
    if a.style == 0:
        body = (
            "context:\n"
            f"  model_name: {a.model}\n"
            f'  system_prompt: "{a.prompt}"\n'
            f"  temperature: {a.temperature}\n"
            "metadata:\n"
            f"  team: team-{a.index % 20}\n"
            f"  tier: {a.index % 3}\n"
        )
    else:
        body = (
            "# reformatted: same content, flow style\n"
            f'context: {{model_name: {a.model}, system_prompt: "{a.prompt}", '
            f"temperature: {a.temperature}}}\n"
            f"metadata: {{team: team-{a.index % 20}, tier: {a.index % 3}}}\n"
        )
    return (head + body).encode("utf-8")


def _blob(out: IO[bytes], path: str, data: bytes) -> None:
    out.write(b"M 100644 inline " + path.encode() + b"\ndata %d\n" % len(data) + data + b"\n")


def _commit_header(out: IO[bytes], mark: int, when: int, message: str, first: bool) -> None:
    msg = message.encode()
    out.write(b"commit refs/heads/main\nmark :%d\n" % mark)
    out.write(f"author {IDENT} {when} +0000\ncommitter {IDENT} {when} +0000\n".encode())
    out.write(b"data %d\n" % len(msg) + msg + b"\n")
    if not first:
        out.write(b"from :%d\n" % (mark - 1))


def _change(a: Assistant, rng: random.Random) -> None:
    """A real content change (always differs from the current content)."""
    a.revision += 1
    what = rng.random()
    if what < 0.5:
        a.prompt = f"You are a {rng.choice(WORDS)} assistant, revision {a.revision}."
    elif what < 0.8:
        a.temperature = round((a.temperature + 0.1 + rng.randrange(9) / 10) % 1.0, 1)
        a.prompt = f"{a.prompt.split(' (t')[0]} (t{a.revision})"
    else:
        a.model = MODELS[(MODELS.index(a.model) + 1 + rng.randrange(len(MODELS) - 1)) % len(MODELS)]
        a.prompt = f"{a.prompt.split(' (m')[0]} (m{a.revision})"


def write_stream(out: IO[bytes], n: int, commits: int, seed: int, info: RepoInfo) -> None:
    """The fast-import stream of the whole history."""
    rng = random.Random(seed)
    assistants = []
    for i in range(n):
        aid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        assistants.append(
            Assistant(
                aid,
                i,
                f"assistants/bench-{i:06d}.yaml",
                MODELS[i % len(MODELS)],
                f"You are assistant {i}.",
                round((i % 10) / 10, 1),
            )
        )
    when = EPOCH
    _commit_header(out, 1, when, f"Add {n} assistants\n", first=True)
    _blob(out, ".gitignore", GITIGNORE.encode())
    _blob(out, "langgraph.json", LANGGRAPH_JSON.encode())
    _blob(out, "graphs/agent.py", AGENT_PY.encode())
    _blob(out, "schemas/agent.context.json", CONTEXT_SCHEMA.encode())
    for a in assistants:
        _blob(out, a.path, render(a))
    out.write(b"\n")
    for mark in range(2, commits + 1):
        when += 60
        picked = rng.sample(assistants, rng.randint(1, 3))
        ops: list[str] = []
        lines: list[bytes] = []
        for a in picked:
            roll = rng.random()
            if roll < 0.05:  # rename only: no new version
                old = a.path
                a.path = f"assistants/bench-{a.index:06d}-r{a.revision}-{mark}.yaml"
                lines.append(f'R "{old}" "{a.path}"\n'.encode())
                ops.append(f"rename {a.index}")
                info.renames += 1
                continue
            if roll < 0.15:  # format only: no new version
                a.style = 1 - a.style
                ops.append(f"reformat {a.index}")
                info.format_only += 1
            else:
                _change(a, rng)
                ops.append(f"change {a.index}")
                info.content_changes += 1
            data = render(a)
            lines.append(
                b"M 100644 inline " + a.path.encode() + b"\ndata %d\n" % len(data) + data + b"\n"
            )
        _commit_header(out, mark, when, ", ".join(ops) + "\n", first=False)
        out.write(b"".join(lines))
        out.write(b"\n")


def _git(path: Path, *args: str, **kw: Any) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=path, check=True, capture_output=True, **kw)


def build(
    n: int,
    commits: int,
    seed: int = 0,
    *,
    path: Path | None = None,
    apply_refs: bool = True,
    log: bool = True,
) -> RepoInfo:
    """Generate the repository at ``path`` (replacing it) and apply it once."""
    path = path or repo_dir(n, commits, seed)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    info = RepoInfo(str(path), n, commits, seed)
    _git(path, "init", "-q", "-b", "main")
    _git(path, "config", "user.name", "Bench Runner")
    _git(path, "config", "user.email", "bench@example.com")
    _git(path, "config", "gc.auto", "0")
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        ["git", "fast-import", "--quiet", "--done"], cwd=path, stdin=subprocess.PIPE
    )
    assert proc.stdin is not None
    try:
        write_stream(proc.stdin, n, commits, seed, info)
        proc.stdin.write(b"done\n")
    finally:
        proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError("git fast-import failed")
    info.fast_import_s = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    _git(path, "reset", "-q", "--hard", "main")
    info.checkout_s = round(time.perf_counter() - t0, 3)
    if log:
        print(
            f"[generate] {path.name}: fast-import {info.fast_import_s:.1f}s, "
            f"checkout {info.checkout_s:.1f}s",
            file=sys.stderr,
        )
    if apply_refs:
        initial_apply(path, info)
        if log:
            print(
                f"[generate] {path.name}: initial apply {info.apply_s:.1f}s "
                f"({info.apply_versions} versions, {info.apply_ref_updates} refs)",
                file=sys.stderr,
            )
    (path / ".git" / READY).write_text(json.dumps(asdict(info), indent=2) + "\n")
    return info


def initial_apply(path: Path, info: RepoInfo) -> None:
    """``gitassist apply`` once through the Python API, timed."""
    from gitassist.apply import apply
    from gitassist.store import Store

    t0 = time.perf_counter()
    outcome = apply(Store(path))
    info.apply_s = round(time.perf_counter() - t0, 3)
    info.apply_versions = len(outcome.plan.versions)
    info.apply_commits_walked = outcome.plan.commits_walked
    info.apply_ref_updates = len(outcome.result.updates) if outcome.result else 0
    refs = _git(path, "for-each-ref", "--format=%(refname)", "refs/assistants").stdout
    info.refs_after_apply = refs.count(b"\n")
    packed = path / ".git" / "packed-refs"
    info.packed_refs_bytes = packed.stat().st_size if packed.exists() else 0


def load_info(path: Path) -> RepoInfo | None:
    ready = path / ".git" / READY
    if not ready.exists():
        return None
    data = json.loads(ready.read_text())
    if data.get("format") != FORMAT:
        return None
    return RepoInfo(**data)


def ensure_repo(n: int, commits: int, seed: int = 0, *, force: bool = False) -> RepoInfo:
    """The cached repository for these parameters, generating it when missing."""
    path = repo_dir(n, commits, seed)
    info = None if force else load_info(path)
    return info if info is not None else build(n, commits, seed, path=path)


def copy_repo(src: Path, dst: Path) -> Path:
    """A private copy to write into, made in seconds even with 200,000 refs.

    Everything is hard-linked (``cp -al``): git and gitassist replace objects, refs,
    packed-refs, the index and work-tree files by rename, never in place. The exceptions are
    copied for real: reflogs (appended to) without the per-ref reflogs of
    ``refs/assistants`` (one file per ref; the benchmarks do not read them), and
    ``.git/gitassist`` (its lock file is flock-ed, which a shared inode would share).
    """
    if dst.exists():
        shutil.rmtree(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cp", "-al", str(src), str(dst)], check=True)
    for sub in ("logs", "gitassist"):
        path = dst / ".git" / sub
        if path.exists():
            shutil.rmtree(path)
    logs = src / ".git" / "logs"
    if logs.exists():
        shutil.copytree(
            logs,
            dst / ".git" / "logs",
            ignore=lambda d, names: ["assistants"] if Path(d) == logs / "refs" else [],
        )
    (dst / ".git" / "gitassist").mkdir()
    return dst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--assistants", "-n", type=int, default=1000)
    parser.add_argument("--commits", "-c", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    parser.add_argument("--no-apply", action="store_true", help="skip the initial apply")
    parser.add_argument("--path", type=Path, help="build here instead of the cache")
    args = parser.parse_args(argv)
    if args.commits < 1 or args.assistants < 3:
        parser.error("need at least 3 assistants and 1 commit")
    if args.path or args.no_apply:
        info = build(
            args.assistants, args.commits, args.seed, path=args.path, apply_refs=not args.no_apply
        )
    else:
        info = ensure_repo(args.assistants, args.commits, args.seed, force=args.force)
    print(json.dumps(asdict(info), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
