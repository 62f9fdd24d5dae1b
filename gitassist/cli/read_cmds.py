"""get, list, search, show: the commands that read assistants, and an assistant's rendering."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from gitassist.cli import terminal
from gitassist.cli.complete import complete_target
from gitassist.cli.options import IntRange, json_option, parse_mapping, repo_option, store_for
from gitassist.cli.render import emit_json, err, out, short, table, yaml_text
from gitassist.cli.terminal import value as safe

if TYPE_CHECKING:
    from gitassist.resolve import Resolved


def assistant_json(resolved: Resolved) -> dict[str, Any]:
    return {**resolved.to_api(), "gitassist": resolved.provenance()}


def describe(resolved: Resolved) -> str:
    doc = resolved.document
    if resolved.source == "version":
        state = f"version {resolved.version} of {resolved.max_version}"
        if resolved.version != resolved.max_version:
            state += " (rolled back)"
    elif resolved.source == "default":
        state = "the graph's default assistant (no file)"
    elif resolved.source == "unrecorded":
        state = "not recorded yet (no version: apply on the tracked branch records it)"
    else:
        state = f"as of {short(resolved.commit)}"
    lines = [
        f"{safe(doc.name)}  ({safe(doc.assistant_id)})",
        f"  graph:    {safe(doc.graph_id)}",
        f"  active:   {state}",
    ]
    if resolved.commit:
        lines.append(f"  commit:   {short(resolved.commit)}  {safe(resolved.path or '')}")
    if doc.description:
        lines.append(f"  about:    {safe(doc.description)}")
    body = {
        k: v
        for k, v in (
            ("context", doc.context),
            ("config", doc.canonical()["config"]),
            ("metadata", doc.metadata),
        )
        if v
    }
    if body:
        lines.append("")
        lines.extend("  " + line for line in yaml_text(body).rstrip().splitlines())
    return "\n".join(lines)


@click.command()
@click.argument("target", shell_complete=complete_target)
@click.option("--rev", help="Read the document at this git revision instead.")
@repo_option
@json_option
def get(target: str, rev: str | None, repo: str, as_json: bool) -> None:
    """Show an assistant's active version (or TARGET@N, or --rev REV).

    \b
    Examples:
      gitassist get support-bot
      gitassist get support-bot@2 --json
      gitassist get agent --rev origin/main
    """
    from gitassist.resolve import resolve

    resolved = resolve(store_for(repo), target, rev=rev)
    if as_json:
        emit_json(assistant_json(resolved))
    else:
        out(describe(resolved))


@click.command(name="list")
@click.option("--graph", "graph_id", help="Only this graph's assistants.")
@click.option("--name", help="Name contains (case-insensitive).")
@click.option("--metadata", "metadata_text", metavar="JSON", help="Metadata contains.")
@click.option("--limit", default=100, show_default=True, type=IntRange(min=1))
@click.option("--offset", default=0, type=IntRange(min=0))
@click.option(
    "--sort-by",
    type=click.Choice(["assistant_id", "created_at", "updated_at", "name", "graph_id"]),
    default="name",
    show_default=True,
)
@click.option("--sort-order", type=click.Choice(["asc", "desc"]), default="asc", show_default=True)
@repo_option
@json_option
def list_(
    graph_id: str | None,
    name: str | None,
    metadata_text: str | None,
    limit: int,
    offset: int,
    sort_by: str,
    sort_order: str,
    repo: str,
    as_json: bool,
) -> None:
    """List assistants with their active versions (alias: search).

    \b
    Examples:
      gitassist list
      gitassist list --graph agent --name support --json
    """
    from gitassist.search import search

    warnings: list[str] = []
    found = search(
        store_for(repo),
        graph_id=graph_id,
        name=name,
        metadata=parse_mapping(metadata_text, "--metadata"),
        limit=limit,
        offset=offset,
        sort_by=sort_by,
        sort_order=sort_order,
        warnings=warnings,
    )
    for warning in warnings:
        err(f"warning: {safe(warning)}")
    if as_json:
        emit_json([assistant_json(r) for r in found])
        return
    rows = []
    for r in found:
        version = {
            "version": f"v{r.version}/{r.max_version}",
            "default": "default",
            "unrecorded": "unrecorded",
        }.get(r.source, "")
        rows.append((r.document.name, r.document.graph_id, version, r.assistant_id, r.path or ""))
    out(table(rows, ("NAME", "GRAPH", "ACTIVE", "ASSISTANT ID", "FILE")))


search = click.Command(
    "search",
    callback=list_.callback,
    params=list_.params,
    help="Search assistants (same as list).\n\n\b\nExamples:\n  gitassist search --name support\n"
    "  gitassist search --graph agent --json",
)


@click.command()
@click.argument("target", shell_complete=complete_target)
@click.option("--rev", help="The document at this git revision.")
@repo_option
@json_option
def show(target: str, rev: str | None, repo: str, as_json: bool) -> None:
    """Print a version's document as committed (TARGET, TARGET@N, TARGET@latest).

    \b
    Examples:
      gitassist show support-bot@2
      gitassist show support-bot@latest > bot.yaml
    """
    from gitassist.resolve import resolve

    store = store_for(repo)
    resolved = resolve(store, target, rev=rev)
    if as_json:
        emit_json(assistant_json(resolved))
    elif resolved.blob is None:
        out(yaml_text(resolved.document.canonical()).rstrip())
    else:
        text = store.blob_text(resolved.blob)  # exact when redirected (`show X > bot.yaml`)
        click.echo(terminal.text(text) if sys.stdout.isatty() else text, nl=False)


COMMANDS = [get, list_, search, show]
