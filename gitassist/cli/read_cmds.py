"""get, list, search, show: the commands that read assistants, and an assistant's rendering."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from gitassist.cli import fast
from gitassist.cli.complete import complete_target
from gitassist.cli.options import IntRange, json_option, parse_mapping, repo_option, store_for
from gitassist.cli.read_render import assistant_json, describe_view, list_row

if TYPE_CHECKING:
    from gitassist.read_cache import Recorder
    from gitassist.store import Store

__all__ = ["COMMANDS", "assistant_json"]


def print_and_remember(
    command: str,
    values: dict[str, Any],
    data: dict[str, Any],
    store: Store,
    recorder: Recorder | None,
    deps: list[str],
) -> None:
    """Print a read's output (through the renderers the warm path uses) and, when the warm
    path would print exactly the same from the cached data, record it for later processes."""
    from gitassist import read_cache

    stdout, stderr = fast.render(command, values, data)
    if stderr:
        click.echo(stderr, nl=False, err=True)
    click.echo(stdout, nl=False)
    if recorder is None or store.warnings:
        return
    if not recorder.matches(str(store.repo.path), str(store.root), str(store.common_dir)):
        return
    try:
        same = fast.render(command, values, read_cache.roundtrip(data)) == (stdout, stderr)
    except (TypeError, ValueError, KeyError):
        same = False
    if same:
        recorder.save(data, deps)


def one_deps(resolved_id: str, uses_head: bool) -> list[str]:
    """What a read of one assistant depends on: its refs and the repository's config; HEAD
    and the work tree's project files too when they named it or supplied its document."""
    from gitassist import read_cache

    deps = ["config", f"refs:refs/assistants/{resolved_id}"]
    if uses_head:
        deps += ["head", *(f"work:{name}" for name in read_cache.WORK_FILES)]
    return deps


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

    values = {"target": target, "as_json": as_json}
    recorder = fast.recorder("get", repo, values) if rev is None else None
    store = store_for(repo)
    resolved = resolve(store, target, rev=rev)
    data = {"json": assistant_json(resolved)} if as_json else {"view": describe_view(resolved)}
    uses_head = not (fast.is_uuid(target.partition("@")[0]) and resolved.source == "version")
    deps = one_deps(resolved.assistant_id, uses_head)
    print_and_remember("get", values, data, store, recorder, deps)


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

    values = {
        "graph": graph_id,
        "name": name,
        "metadata": metadata_text,
        "limit": limit,
        "offset": offset,
        "sort_by": sort_by,
        "sort_order": sort_order,
        "as_json": as_json,
    }
    recorder = fast.recorder("list", repo, values)
    store = store_for(repo)
    warnings: list[str] = []
    found = search(
        store,
        graph_id=graph_id,
        name=name,
        metadata=parse_mapping(metadata_text, "--metadata"),
        limit=limit,
        offset=offset,
        sort_by=sort_by,
        sort_order=sort_order,
        warnings=warnings,
    )
    data: dict[str, Any] = {"warnings": warnings}
    if as_json:
        data["json"] = [assistant_json(r) for r in found]
    else:
        data["rows"] = [list_row(r) for r in found]
    deps = ["config", "head", "ref:refs/gitassist/applied", "refstamp:refs/assistants"]
    deps += [f"work:{n}" for n in ("langgraph.json", "gitassist.yaml")]
    print_and_remember("list", values, data, store, recorder, deps)


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
    from gitassist.cli.render import yaml_text
    from gitassist.resolve import resolve

    values = {"target": target, "as_json": as_json}
    recorder = fast.recorder("show", repo, values) if rev is None else None
    store = store_for(repo)
    resolved = resolve(store, target, rev=rev)
    data: dict[str, Any]
    if as_json:
        data = {"json": assistant_json(resolved)}
    elif resolved.blob is None:
        data = {"text": yaml_text(resolved.document.canonical()).rstrip(), "nl": True}
    else:
        data = {"text": store.blob_text(resolved.blob), "nl": False}
    uses_head = not (fast.is_uuid(target.partition("@")[0]) and resolved.source == "version")
    deps = one_deps(resolved.assistant_id, uses_head)
    print_and_remember("show", values, data, store, recorder, deps)


COMMANDS = [get, list_, search, show]
