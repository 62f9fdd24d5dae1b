"""Shell completion: ``gitassist completion bash|zsh|fish`` and the TARGET completer.

Completing a TARGET reads the repository's tree and refs (file stems, graph ids, version
numbers) and the names the summary index already holds (``gitassist list`` fills it); it
never parses a document to find a name, never imports langgraph or any graph code, and never
fails loudly: a shell completion that errors is worse than none.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import click
from click.shell_completion import CompletionItem, get_completion_class

if TYPE_CHECKING:
    from gitassist.store import Entry, Store

SHELLS = ("bash", "zsh", "fish")


def _store(ctx: click.Context) -> Store:
    """The repository the command line names: the group's -C DIR, then --repo/-C."""
    from gitassist.store import Store

    base = Path(ctx.find_root().params.get("directory") or ".")
    repo = ctx.params.get("repo") or os.environ.get("GITASSIST_REPO") or "."
    return Store(base / repo)


def target_candidates(store: Store, incomplete: str) -> list[tuple[str, str]]:
    """(value, help) pairs for a TARGET: file stems, unique display names (from the summary
    index when it is warm: no document is parsed), graph ids, or ``TARGET@N`` versions."""
    from gitassist.versions import NAMESPACE

    head = store.head_commit()
    entries = store.entries(head.tree if head is not None else None)
    stems: dict[str, str] = {}
    for path in sorted(entries):
        stems.setdefault(Path(path).stem, path)
    names = _names(store, entries, stems)
    if "@" in incomplete:
        stem = incomplete.partition("@")[0]
        where = stems.get(stem) or names.get(stem)
        if where is None:
            return []
        doc = store.document(entries[where])
        prefix = f"{NAMESPACE}/{doc.assistant_id}/versions/"
        numbers = sorted(
            int(name[len(prefix) :])
            for name in store.refdb.listing()
            if name.startswith(prefix) and name[len(prefix) :].isdigit()
        )
        values = [(f"{stem}@{n}", f"version {n}") for n in reversed(numbers)]
        return [(f"{stem}@latest", "the active version"), *values]
    graphs = sorted(store.project.graphs)
    found = list(stems.items())
    found += [(name, f"name of {path}") for name, path in sorted(names.items())]
    taken = set(stems) | set(names)
    found += [(graph, "graph (its default assistant)") for graph in graphs if graph not in taken]
    return found


_PLAIN = re.compile(r"[\w.+:,=-]+")  # a name a shell completes as one word, without @


def _names(store: Store, entries: dict[str, Entry], stems: dict[str, str]) -> dict[str, str]:
    """Unique display names (that are not a file stem) -> their document's path, for the
    documents the summary index knows; only names a shell can complete as one word."""
    from gitassist.summary_cache import cache_for

    known = cache_for(store).known_names()
    by_name: dict[str, list[str]] = {}
    for path, entry in entries.items():
        name = known.get((entry.blob, path))
        if name is not None and name not in stems and _PLAIN.fullmatch(name):
            by_name.setdefault(name, []).append(path)
    return {name: paths[0] for name, paths in by_name.items() if len(paths) == 1}


def complete_target(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    try:
        pairs = target_candidates(_store(ctx), incomplete)
    except Exception:  # completion must never break the shell
        return []
    return [CompletionItem(v, help=h) for v, h in pairs if v.startswith(incomplete)]


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the shell completion script for SHELL (commands, options, assistants, versions).

    \b
    Examples:
      gitassist completion bash > ~/.local/share/bash-completion/completions/gitassist
      gitassist completion zsh > "${fpath[1]}/_gitassist"
      gitassist completion fish > ~/.config/fish/completions/gitassist.fish
      eval "$(gitassist completion bash)"          just this shell
    """
    cls = get_completion_class(shell)
    assert cls is not None  # every choice is one of click's shells
    root = ctx.find_root().command
    click.echo(cls(root, {}, "gitassist", "_GITASSIST_COMPLETE").source())


COMMANDS = [completion]
