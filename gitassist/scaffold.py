"""``gitassist init``: make a directory an assistant repository."""

from __future__ import annotations

import json
from pathlib import Path

import pygit2

from gitassist.documents import document_json_schema
from gitassist.project import LANGGRAPH_JSON

GITIGNORE_LINES = (".gitassist/", ".langgraph_api/", "__pycache__/")


def schema_text() -> str:
    return json.dumps(document_json_schema(), indent=2, sort_keys=True) + "\n"


def init_repository(directory: str | Path, graphs: dict[str, str] | None = None) -> list[str]:
    """Create what is missing; commit only the files created. Returns their paths."""
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    found = pygit2.discover_repository(str(root))
    repo = (
        pygit2.Repository(found)
        if found
        else pygit2.init_repository(str(root), initial_head="main")
    )
    workdir = Path(repo.workdir or root)
    created: list[str] = []
    if not found:
        created.append(".git")

    def write(rel: str, text: str) -> None:
        path = workdir / rel
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        created.append(rel)

    write(
        LANGGRAPH_JSON,
        json.dumps(
            {"dependencies": ["."], "graphs": graphs or {"agent": "./graphs/agent.py:graph"}},
            indent=2,
        )
        + "\n",
    )
    write("assistants/.gitkeep", "")
    write("schemas/assistant.schema.json", schema_text())
    ignore = workdir / ".gitignore"
    have = ignore.read_text(encoding="utf-8").splitlines() if ignore.exists() else []
    missing = [line for line in GITIGNORE_LINES if line not in have]
    if missing:
        ignore.write_text("\n".join([*have, *missing]) + "\n", encoding="utf-8")
        created.append(".gitignore")
    files = [c for c in created if c != ".git"]
    if files:
        _commit(repo, files)
    return created


def _commit(repo: pygit2.Repository, files: list[str]) -> None:
    from gitassist.store import identity_from_env

    index = repo.index
    index.read()
    for rel in files:
        index.add(rel)
    index.write()
    who = identity_from_env(repo)
    sig = pygit2.Signature(who.name, who.email)
    parents = [] if repo.head_is_unborn else [repo.head.target]
    ref = "HEAD"
    repo.create_commit(
        ref, sig, sig, "Initialise gitassist repository", index.write_tree(), parents
    )
