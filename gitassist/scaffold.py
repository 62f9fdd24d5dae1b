"""``gitassist init``: make a directory an assistant repository."""

from __future__ import annotations

import json
from pathlib import Path

import pygit2

from gitassist.errors import RepositoryError
from gitassist.project import LANGGRAPH_JSON, Project
from gitassist.schemas import DOCUMENT_SCHEMA, document_schema_text, schema_path

GITIGNORE_LINES = (".gitassist/", ".langgraph_api/", "__pycache__/")


def _template(name: str) -> str:
    return (Path(__file__).parent / "templates" / name).read_text(encoding="utf-8")


def init_repository(directory: str | Path, graphs: dict[str, str] | None = None) -> list[str]:
    """Create what is missing; commit only the files created. Returns their paths.

    DIRECTORY becomes a repository of its own unless it already is the top of one (a
    subdirectory of another repository gets its own ``git init``).
    """
    root = Path(directory).resolve()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RepositoryError(
            f"cannot create the directory {str(directory)!r}: {exc.strerror}",
            hint="name a directory that can be created (or one that exists)",
        ) from None
    from gitassist.worktree import read_text

    have = (read_text(root, ".gitignore") or "").splitlines()  # a symlink: refused, first
    found = pygit2.discover_repository(str(root))
    if found is not None:
        workdir = pygit2.Repository(found).workdir
        if workdir is None or Path(workdir).resolve() != root:
            found = None
    created: list[str] = []
    if found is None:
        pygit2.init_repository(str(root), initial_head="main")
        created.append(".git")
    texts: dict[str, str] = {}

    def write(rel: str, text: str) -> None:
        if not (root / rel).exists():
            texts[rel] = text

    if not graphs and not (root / LANGGRAPH_JSON).exists():
        # a starter graph (the example's: offline echo model, OpenAI/Anthropic with a key)
        # and its exported context schema, so a new repository runs end to end at once
        write("graphs/agent.py", _template("agent_graph.py.txt"))
        schema = schema_path(Project(), "agent")
        write(schema, _template(schema.rpartition("/")[2]))
    write(
        LANGGRAPH_JSON,
        json.dumps(
            {"dependencies": ["."], "graphs": graphs or {"agent": "./graphs/agent.py:graph"}},
            indent=2,
        )
        + "\n",
    )
    write("assistants/.gitkeep", "")
    write(f"{Project().settings.schemas_dir}/{DOCUMENT_SCHEMA}", _document_schema(root, texts))
    missing = [line for line in GITIGNORE_LINES if line not in have]
    if missing:
        texts[".gitignore"] = "\n".join([*have, *missing]) + "\n"
    if texts:
        _commit(root, texts)
    return created + list(texts)


def _document_schema(root: Path, texts: dict[str, str]) -> str:
    """The document schema bound to the graphs and the context schemas there will be (as
    `gitassist schemas export` writes it, without running graph code); the generic one when
    the files cannot be read."""
    from gitassist.errors import GitassistError
    from gitassist.project import CONFIG_FILE, load_project

    def text(rel: str) -> str | None:
        if rel in texts:
            return texts[rel]
        path = root / rel
        return path.read_text(encoding="utf-8") if path.is_file() else None

    try:
        project = load_project(text(LANGGRAPH_JSON), text(CONFIG_FILE))
    except (GitassistError, OSError, UnicodeDecodeError):
        return document_schema_text()
    contexts = {}
    for graph_id in project.graphs:
        try:
            found = json.loads(text(schema_path(project, graph_id)) or "null")
        except (OSError, UnicodeDecodeError, ValueError):
            found = None
        contexts[graph_id] = found if isinstance(found, dict) else None
    return document_schema_text(project, contexts)


def _commit(root: Path, texts: dict[str, str]) -> None:
    """Commit exactly these files on the current branch (staged work stays staged)."""
    from gitassist.checkout import write_worktree
    from gitassist.commits import write_commit
    from gitassist.store import Store

    store = Store(root)
    branch = store.current_branch()
    if branch is None:  # detached HEAD: write the files, leave committing to the user
        write_worktree(store, dict(texts))
        return
    write_commit(store, branch, store.head_commit(), dict(texts), "Initialise gitassist repository")
