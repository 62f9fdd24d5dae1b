"""Shell completion: ``gitassist completion bash|zsh|fish`` and the TARGET completer.

Completing a TARGET reads the repository's tree and refs only (file stems, graph ids, version
numbers); it never imports langgraph or any graph code, and it never fails loudly: a shell
completion that errors is worse than none.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click
from click.shell_completion import CompletionItem, get_completion_class

if TYPE_CHECKING:
    from gitassist.store import Store

SHELLS = ("bash", "zsh", "fish")


def _store(ctx: click.Context) -> Store:
    """The repository the command line names: the group's -C DIR, then --repo/-C."""
    from gitassist.store import Store

    base = Path(ctx.find_root().params.get("directory") or ".")
    repo = ctx.params.get("repo") or os.environ.get("GITASSIST_REPO") or "."
    return Store(base / repo)


def target_candidates(store: Store, incomplete: str) -> list[tuple[str, str]]:
    """(value, help) pairs for a TARGET: file stems and graph ids, or ``STEM@N`` versions."""
    from gitassist.versions import NAMESPACE

    head = store.head_commit()
    entries = store.entries(head.tree if head is not None else None)
    stems: dict[str, str] = {}
    for path in sorted(entries):
        stems.setdefault(Path(path).stem, path)
    if "@" in incomplete:
        stem = incomplete.partition("@")[0]
        if stem not in stems:
            return []
        doc = store.document(entries[stems[stem]])
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
    found += [(graph, "graph (its default assistant)") for graph in graphs if graph not in stems]
    return found


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
