"""init, create, update, delete: the commands that write assistants (readers: read_cmds)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from gitassist.cli.complete import complete_target
from gitassist.cli.options import (
    json_option,
    parse_mapping,
    parse_sets,
    repo_option,
    store_for,
)
from gitassist.cli.read_cmds import assistant_json
from gitassist.cli.render import emit_json, out, short
from gitassist.cli.terminal import value as safe

if TYPE_CHECKING:
    from gitassist.write_commit import WriteResult


def _written(result: WriteResult, verb: str, as_json: bool) -> None:
    if as_json:
        data = assistant_json(result.assistant)
        data["gitassist"].update(
            {
                "commit": result.commit,
                "recorded": result.recorded,
                "pending_version": result.pending_version,
                "changed": result.changed,
                "branch": result.branch,
            }
        )
        emit_json(data)
        return
    doc = result.assistant.document
    if not result.changed:
        out(f"{safe(doc.name)}: nothing changed (no commit, no new version)")
        return
    if result.recorded:
        out(
            f"{verb} {safe(doc.name)} ({safe(doc.assistant_id)}): version "
            f"{result.assistant.version} is active [{short(result.commit)}]"
        )
    else:
        out(
            f"{verb} {safe(doc.name)} ({safe(doc.assistant_id)}) on branch {result.branch} "
            f"[{short(result.commit)}]"
        )
        if result.pending_version:
            out(f"  becomes version {result.pending_version} once merged and applied")


@click.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option(
    "--graph",
    "graphs",
    multiple=True,
    metavar="ID=./file.py:attr",
    help="A graph for a new langgraph.json (repeatable).",
)
@json_option
def init(directory: str, graphs: tuple[str, ...], as_json: bool) -> None:
    """Make DIRECTORY an assistant repository.

    Runs `git init` where needed and adds what is missing: langgraph.json (with a
    starter graph, graphs/agent.py, and its context schema when there was none),
    assistants/, schemas/assistant.schema.json (editor completion) and .gitignore
    entries; then commits only the files it created.

    \b
    Examples:
      gitassist init my-assistants
      gitassist init . --graph agent=./graphs/agent.py:graph
    """
    from gitassist.scaffold import init_repository

    created = init_repository(directory, dict(g.split("=", 1) for g in graphs if "=" in g))
    if as_json:
        emit_json({"directory": directory, "created": created})
    elif created:
        out(f"initialised {directory}: " + ", ".join(created))
    else:
        out(f"{directory} is already an assistant repository; nothing to do")


no_verify_option = click.option(
    "--no-verify",
    "-n",
    is_flag=True,
    help="Skip the repository's pre-commit and commit-msg hooks (as git commit does).",
)


@click.command()
@click.argument("graph_id")
@click.option("--name", help="Human-readable name (also the file name).")
@click.option("--description")
@click.option(
    "--context",
    "context_text",
    metavar="JSON|YAML|@FILE",
    help="Context values for the graph's ContextSchema.",
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Set one context value (repeatable; dotted keys nest).",
)
@click.option(
    "--config",
    "config_text",
    metavar="JSON",
    help='Run config: {"tags": [...], "recursion_limit": N}.',
)
@click.option("--metadata", "metadata_text", metavar="JSON")
@click.option("--id", "assistant_id", help="Use this UUID instead of a new one.")
@click.option(
    "--dir",
    "folder",
    metavar="FOLDER",
    help="Put the file in this subfolder of the assistants directory (e.g. team).",
)
@click.option(
    "--if-exists", type=click.Choice(["raise", "do_nothing"]), default="raise", show_default=True
)
@click.option("--message", "-m", help="Commit message.")
@click.option("--author", metavar="'NAME <EMAIL>'")
@no_verify_option
@repo_option
@json_option
def create(
    graph_id: str,
    name: str | None,
    description: str | None,
    context_text: str | None,
    sets: tuple[str, ...],
    config_text: str | None,
    metadata_text: str | None,
    assistant_id: str | None,
    folder: str | None,
    if_exists: str,
    message: str | None,
    author: str | None,
    no_verify: bool,
    repo: str,
    as_json: bool,
) -> None:
    """Create an assistant for GRAPH_ID and commit its file.

    On the tracked branch this records version 1 and makes it active; on another
    branch it only commits.

    \b
    Examples:
      gitassist create agent --name "Support bot" --set model_name=openai
    """
    from gitassist import assistants as ops
    from gitassist.actor import parse_author

    result = ops.create(
        store_for(repo),
        graph_id,
        context=parse_mapping(context_text, "--context"),
        set_context=parse_sets(sets),
        config=parse_mapping(config_text, "--config"),
        metadata=parse_mapping(metadata_text, "--metadata"),
        name=name,
        description=description,
        assistant_id=assistant_id,
        if_exists=if_exists,
        author=parse_author(author),
        message=message,
        folder=folder,
        verify=not no_verify,
    )
    _written(result, "created", as_json)


@click.command()
@click.argument("target", shell_complete=complete_target)
@click.option(
    "--context",
    "context_text",
    metavar="JSON|YAML|@FILE",
    help="The WHOLE new context (replaces it: no merge, as in LangGraph).",
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Change one context value, keeping the others (repeatable).",
)
@click.option("--unset", "unsets", multiple=True, metavar="KEY", help="Remove a context key.")
@click.option("--graph", "graph_id", help="Move the assistant to another graph.")
@click.option("--name")
@click.option("--description")
@click.option("--config", "config_text", metavar="JSON")
@click.option("--metadata", "metadata_text", metavar="JSON", help="Merged one level deep.")
@click.option("--message", "-m", help="Commit message.")
@click.option("--author", metavar="'NAME <EMAIL>'")
@no_verify_option
@repo_option
@json_option
def update(
    target: str,
    context_text: str | None,
    sets: tuple[str, ...],
    unsets: tuple[str, ...],
    graph_id: str | None,
    name: str | None,
    description: str | None,
    config_text: str | None,
    metadata_text: str | None,
    message: str | None,
    author: str | None,
    no_verify: bool,
    repo: str,
    as_json: bool,
) -> None:
    """Change an assistant: a new commit and, on the tracked branch, a new version.

    The file is edited in place: comments and layout survive. An update that
    changes nothing makes no commit and no version.

    \b
    Examples:
      gitassist update support-bot --set system_prompt="Be brief."
    """
    from gitassist import assistants as ops
    from gitassist.actor import parse_author

    result = ops.update(
        store_for(repo),
        target,
        graph_id=graph_id,
        context=parse_mapping(context_text, "--context"),
        set_context=parse_sets(sets),
        unset_context=unsets,
        config=parse_mapping(config_text, "--config"),
        metadata=parse_mapping(metadata_text, "--metadata"),
        name=name,
        description=description,
        author=parse_author(author),
        message=message,
        verify=not no_verify,
    )
    _written(result, "updated", as_json)


@click.command()
@click.argument("target", shell_complete=complete_target)
@click.option("--message", "-m", help="Commit message.")
@click.option("--author", metavar="'NAME <EMAIL>'")
@no_verify_option
@repo_option
@json_option
def delete(
    target: str,
    message: str | None,
    author: str | None,
    no_verify: bool,
    repo: str,
    as_json: bool,
) -> None:
    """Delete an assistant: removes its file in a commit and marks it deleted.

    Its versions stay readable (`gitassist versions`), and creating the same id
    again continues the numbering.

    \b
    Examples:
      gitassist delete support-bot -m "retired"
    """
    from gitassist import assistants as ops
    from gitassist.actor import parse_author

    result = ops.delete(
        store_for(repo),
        target,
        author=parse_author(author),
        message=message,
        verify=not no_verify,
    )
    if as_json:
        emit_json(
            {
                "assistant_id": result.assistant.assistant_id,
                "deleted": result.recorded,
                "commit": result.commit,
                "branch": result.branch,
            }
        )
    elif result.recorded:
        out(
            f"deleted {safe(result.assistant.document.name)} ({result.assistant.assistant_id}) "
            f"[{short(result.commit)}]; its versions stay readable"
        )
    else:
        out(
            f"removed {safe(result.assistant.document.name)} on branch {result.branch} "
            f"[{short(result.commit)}]; it is marked deleted once merged and applied with --prune"
        )


COMMANDS = [init, create, update, delete]
