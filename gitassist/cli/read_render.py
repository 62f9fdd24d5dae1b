"""The text of the read commands (``get``, ``list``, ``versions``), made from plain data.

The ordinary path builds these views from what it resolved (``*_view`` functions); the warm
read path (:mod:`gitassist.cli.fast`) gets the same views from the read cache. Both print
through the functions here, so a change to how a field is shown applies to both. No click,
pygit2, pydantic or YAML import at module level.
"""

from __future__ import annotations

from gitassist.cli.render import short, table
from gitassist.cli.terminal import value as safe

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the warm read path)
if TYPE_CHECKING:
    from typing import Any

    from gitassist.resolve import Resolved


def assistant_json(resolved: Resolved) -> dict[str, Any]:
    return {**resolved.to_api(), "gitassist": resolved.provenance()}


def describe_view(resolved: Resolved) -> dict[str, Any]:
    """What :func:`describe_text` shows of ``resolved`` (its YAML body already rendered)."""
    from gitassist.cli.render import yaml_text

    doc = resolved.document
    body = {
        k: v
        for k, v in (
            ("context", doc.context),
            ("config", doc.canonical()["config"]),
            ("metadata", doc.metadata),
        )
        if v
    }
    return {
        "name": doc.name,
        "assistant_id": doc.assistant_id,
        "graph_id": doc.graph_id,
        "description": doc.description,
        "source": resolved.source,
        "version": resolved.version,
        "max_version": resolved.max_version,
        "commit": resolved.commit,
        "path": resolved.path,
        "body": yaml_text(body) if body else "",
    }


def describe_text(view: dict[str, Any]) -> str:
    """``gitassist get``'s human text."""
    if view["source"] == "version":
        state = f"version {view['version']} of {view['max_version']}"
        if view["version"] != view["max_version"]:
            state += " (rolled back)"
    elif view["source"] == "default":
        state = "the graph's default assistant (no file)"
    elif view["source"] == "unrecorded":
        state = "not recorded yet (no version: apply on the tracked branch records it)"
    else:
        state = f"as of {short(view['commit'])}"
    lines = [
        f"{safe(view['name'])}  ({safe(view['assistant_id'])})",
        f"  graph:    {safe(view['graph_id'])}",
        f"  active:   {state}",
    ]
    if view["commit"]:
        lines.append(f"  commit:   {short(view['commit'])}  {safe(view['path'] or '')}")
    if view["description"]:
        lines.append(f"  about:    {safe(view['description'])}")
    if view["body"]:
        lines.append("")
        lines.extend("  " + line for line in view["body"].rstrip().splitlines())
    return "\n".join(lines)


def list_row(r: Resolved) -> list[Any]:
    """One row of ``gitassist list`` as data."""
    doc = r.document
    return [doc.name, doc.graph_id, r.source, r.version, r.max_version, r.assistant_id, r.path]


def list_text(rows: list[list[Any]]) -> str:
    """``gitassist list``'s table."""
    cells = []
    for name, graph_id, source, version, max_version, assistant_id, path in rows:
        active = {
            "version": f"v{version}/{max_version}",
            "default": "default",
            "unrecorded": "unrecorded",
        }.get(source, "")
        cells.append((name, graph_id, active, assistant_id, path or ""))
    return table(cells, ("NAME", "GRAPH", "ACTIVE", "ASSISTANT ID", "FILE"))


def version_row(r: Resolved) -> list[Any]:
    """One row of ``gitassist versions`` as data."""
    return [r.version, r.created_at, r.commit, r.author, r.path, r.ci.get("url", "")]


def versions_text(rows: list[list[Any]], active: int | None) -> str:
    """``gitassist versions``'s table (``active``: the active version, if any)."""
    if not rows:
        return "no recorded versions yet (apply on the tracked branch records them)"
    cells = []
    for version, created_at, commit, author, path, url in rows:
        mark = "*" if active is not None and active == version else ""
        when = created_at[:19].replace("T", " ")
        cells.append((f"{mark}{version}", when, short(commit), author, path, url))
    header = ("VERSION", "COMMITTED (UTC)", "COMMIT", "AUTHOR", "FILE", "CI")
    return table(cells, header) + "\n* active"


def warning_lines(warnings: list[str]) -> str:
    return "".join(f"warning: {safe(w)}\n" for w in warnings)
