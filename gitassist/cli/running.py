"""run, threads: executing assistants locally (see docs/running.md)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

from gitassist.cli.complete import complete_target
from gitassist.cli.options import json_option, parse_mapping, parse_value, repo_option
from gitassist.cli.render import emit_json, out, short, table, yaml_text

if TYPE_CHECKING:
    from gitassist.events import StreamPart
    from gitassist.runner import Runner
    from gitassist.threads import ThreadStore

_MESSAGE_TYPES = {"human", "ai", "system", "tool", "AIMessageChunk", "function"}


def _runner(repo: str) -> Runner:
    from gitassist.runner import Runner
    from gitassist.store import Store

    return Runner(Store(repo))


def thread_uuid(value: str | None) -> str | None:
    """A thread id from the command line: a UUID, as the server requires (else exit 2)."""
    import uuid

    if value is not None:
        try:
            uuid.UUID(value)
        except ValueError:
            from gitassist.errors import UsageError

            raise UsageError(
                f"thread id {value!r} is not a UUID", hint="`gitassist threads list` shows them"
            ) from None
    return value


def _threads(repo: str) -> ThreadStore:
    from gitassist.store import Store
    from gitassist.threads import ThreadStore

    return ThreadStore(Store(repo))


def _resume_value(text: str) -> Any:
    """``--resume``: a JSON/YAML value, or the text itself when it is not one."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _input(text: str | None) -> Any:
    """The graph input: a JSON/YAML mapping (or nothing), checked before anything runs."""
    if text is None:
        return None
    if text == "-":
        text = sys.stdin.read()
        if not text.strip():
            return None
    value = parse_value(text, "--input")
    if not isinstance(value, dict):  # null too: docs/running.md, exit 2 and nothing runs
        raise click.BadParameter(
            "must be a JSON object (the graph's input state), e.g. "
            '\'{"messages": [{"role": "user", "content": "hi"}]}\'',
            param_hint="--input",
        )
    return value


def _stream_modes(values: tuple[str, ...]) -> list[str]:
    from gitassist.events import STREAM_MODES

    modes = [m.strip() for value in values for m in value.split(",") if m.strip()]
    unknown = [m for m in modes if m not in STREAM_MODES]
    if unknown:
        raise click.BadParameter(
            f"{', '.join(unknown)}; use {', '.join(STREAM_MODES)}", param_hint="--stream-mode"
        )
    return modes or ["updates"]


# --------------------------------------------------------------------------- human rendering


def _readable(value: Any) -> Any:
    """Messages as "type: content" strings, everything else as it is."""
    if isinstance(value, dict):
        if value.get("type") in _MESSAGE_TYPES and "content" in value:
            kind = "ai" if value["type"] == "AIMessageChunk" else value["type"]
            content = value["content"]
            text = content if isinstance(content, str) else json.dumps(content)
            return f"{kind}: {text}"
        return {k: _readable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_readable(v) for v in value]
    return value


def _compact(value: Any) -> str:
    return json.dumps(_readable(value), ensure_ascii=False, default=str)


def _header(data: dict[str, Any]) -> str:
    version = f"version {data['version']}" if data.get("version") else data.get("source", "")
    code = "pinned" if data.get("pinned") else "working tree"
    if data.get("code_dirty"):
        code += ", uncommitted changes"
    line = (
        f"run {short(data['run_id'], 8)}  {data['name']} ({data['assistant_id']}) {version}"
        f"\n  document {short(data.get('document_commit')) or '-'}  "
        f"{data.get('document_path') or '(default assistant)'}"
        f"\n  code     {short(data.get('code_commit')) or '-'}  ({code})"
    )
    if not data.get("context_checked", True):
        line += "\n  context  not validated: the graph declares no context schema"
    elif data.get("context_schema") == "graph":
        line += "\n  context  validated against the graph's own schema (none is committed)"
    if data.get("env"):  # names only: the values are secrets
        line += f"\n  env      {', '.join(data['env'])} (langgraph.json env)"
    if data.get("thread_id"):
        line += f"\n  thread   {data['thread_id']}"
    return line


def _render(part: StreamPart) -> str | None:
    event, data = part.event, part.data
    if event == "metadata":
        return _header(data)
    if event == "updates" and isinstance(data, dict):
        lines = []
        for node, update in data.items():
            lines.append(f"[{node}] {_compact(update)}")
        return "\n".join(lines)
    if event in ("messages/complete", "messages/partial"):
        return "\n".join(f"[message] {_readable(m)}" for m in data)
    if event == "messages":
        return f"[message] {_readable(data[0])}"
    if event == "messages/metadata":
        return None
    if event == "debug" and isinstance(data, dict):
        payload = data.get("payload") or {}
        name = payload.get("name", "") if isinstance(payload, dict) else ""
        return f"[debug] step {data.get('step')} {data.get('type')} {name}".rstrip()
    return f"[{event}] {_compact(data)}"


# --------------------------------------------------------------------------- run


@click.command()
@click.argument("target", shell_complete=complete_target, required=False)
@click.option("--rev", help="Run the document as it is at this git revision.")
@click.option(
    "--input",
    "input_text",
    metavar="JSON|@FILE|-",
    help="The graph input: JSON/YAML, @file, or - to read stdin.",
)
@click.option(
    "--context",
    "context_text",
    metavar="JSON|@FILE",
    help="Run-level context, merged key by key over the assistant's.",
)
@click.option(
    "--stream-mode",
    "-s",
    "stream_modes",
    multiple=True,
    metavar="MODE",
    help="updates (default), values, messages, messages-tuple, debug, custom, tasks, "
    "checkpoints; repeat or comma-separate for several.",
)
@click.option(
    "--thread",
    "thread_id",
    metavar="ID",
    callback=lambda ctx, param, value: thread_uuid(value),
    help="Continue this thread (a UUID; created if it does not exist).",
)
@click.option(
    "--resume",
    "resume_text",
    metavar="VALUE",
    help="Answer the thread's interrupt (JSON/YAML value, or plain text); needs --thread.",
)
@click.option("--wait", is_flag=True, help="Print only the final state.")
@click.option(
    "--pin", is_flag=True, help="Run the graph code as it was at the version's own commit."
)
@repo_option
@json_option
def run(
    target: str | None,
    rev: str | None,
    input_text: str | None,
    context_text: str | None,
    stream_modes: tuple[str, ...],
    thread_id: str | None,
    resume_text: str | None,
    wait: bool,
    pin: bool,
    repo: str,
    as_json: bool,
) -> None:
    """Run an assistant locally and stream what each step does.

    TARGET is an assistant id, graph id, file stem or unique name, optionally
    with @N or @latest; with --thread it may be left out to continue the
    thread's own assistant.

    \b
    Examples:
      gitassist run Bot --input '{"messages": [{"role": "user", "content": "hi"}]}'
      gitassist run Bot@1 --pin --wait --input @question.json
      gitassist run Bot --thread 6f1c... --input - < next-turn.json
      gitassist run --thread 6f1c... --resume yes
    """
    if target is None and thread_id is None:
        raise click.UsageError("name an assistant to run, or a --thread to continue")
    command = None
    if resume_text is not None:
        if thread_id is None:
            raise click.UsageError("--resume answers a thread's interrupt: pass --thread too")
        if input_text is not None:
            raise click.UsageError("pass either --input or --resume, not both")
        command = {"resume": _resume_value(resume_text)}
    graph_input = _input(input_text)
    if graph_input is None and command is None and thread_id is None:  # the graph would fail
        raise click.UsageError(
            "a new run needs --input (a JSON object, @FILE, or - with it on stdin); "
            "only a --thread run may continue without one"
        )
    runner = _runner(repo)
    modes = ["values"] if wait else _stream_modes(stream_modes)
    parts = runner.stream(
        thread_id,
        target,
        command=command,
        input=graph_input,
        stream_mode=modes,
        context=parse_mapping(context_text, "--context"),
        rev=rev,
        pin=pin,
        if_not_exists="create",
    )
    if wait:
        _wait(parts, as_json)
        return
    for part in parts:
        if as_json:
            click.echo(
                json.dumps(
                    {"event": part.event, "data": part.data}, ensure_ascii=False, default=str
                )
            )
        else:
            text = _render(part)
            if text is not None:
                out(text)


def _wait(parts: Any, as_json: bool) -> None:
    metadata: dict[str, Any] = {}
    values: Any = None
    for part in parts:
        if part.event == "metadata":
            metadata = part.data
        elif part.event == "values":
            values = part.data
    if as_json:
        emit_json({"metadata": metadata, "values": values})
        return
    out(_header(metadata))
    out()
    out(yaml_text(_readable(values)).rstrip() if values else "(no state)")


# --------------------------------------------------------------------------- threads


@click.group()
def threads() -> None:
    """Conversations kept between runs (in .gitassist/threads.sqlite, git-ignored).

    \b
    Examples:
      gitassist threads create support-bot
      gitassist threads list
    """


@threads.command("create")
@click.argument("target", shell_complete=complete_target, required=False)
@click.option("--id", "thread_id", help="Use this UUID instead of a new one.")
@click.option("--metadata", "metadata_text", metavar="JSON")
@repo_option
@json_option
def threads_create(
    target: str | None, thread_id: str | None, metadata_text: str | None, repo: str, as_json: bool
) -> None:
    """Create a thread, optionally for assistant TARGET (later runs default to it).

    \b
    Examples:
      gitassist threads create support-bot --json
    """
    thread = _threads(repo).create(
        metadata=parse_mapping(metadata_text, "--metadata"),
        thread_id=thread_id,
        assistant=target,
    )
    if as_json:
        emit_json(thread)
    else:
        out(thread["thread_id"])


@threads.command("list")
@click.option("--assistant", "target", help="Only threads started with this assistant.")
@click.option("--status", type=click.Choice(["idle", "busy", "interrupted", "error"]))
@click.option("--limit", default=20, show_default=True)
@repo_option
@json_option
def threads_list(
    target: str | None, status: str | None, limit: int, repo: str, as_json: bool
) -> None:
    """List threads, newest first.

    \b
    Examples:
      gitassist threads list
      gitassist threads list --json
    """
    thread_store = _threads(repo)
    metadata = None
    if target is not None:
        from gitassist.resolve import resolve

        metadata = {"assistant_id": resolve(thread_store.store, target).assistant_id}
    found = thread_store.search(metadata=metadata, status=status, limit=limit)
    if as_json:
        emit_json(found)
        return
    rows = [
        (
            t["thread_id"],
            t["status"],
            t["metadata"].get("assistant_id", ""),
            len(thread_store.db.runs(t["thread_id"])),
            t["updated_at"][:19],
        )
        for t in found
    ]
    out(table(rows, ["thread", "status", "assistant", "runs", "updated"]) if rows else "no threads")


@threads.command("show")
@click.argument("thread_id", callback=lambda ctx, param, value: thread_uuid(value))
@repo_option
@json_option
def threads_show(thread_id: str, repo: str, as_json: bool) -> None:
    """A thread's state and its runs, each with the versions of document and code it used.

    \b
    Examples:
      gitassist threads show 6f1c...
    """
    thread_store = _threads(repo)
    thread = thread_store.get(thread_id)
    runs = thread_store.runs(thread_id)
    if as_json:
        emit_json({**thread, "runs": runs})
        return
    meta = thread["metadata"]
    out(f"thread {thread['thread_id']}  ({thread['status']})")
    out(f"  assistant {meta.get('assistant_id', '-')}  graph {meta.get('graph_id', '-')}")
    out(f"  created   {thread['created_at'][:19]}  updated {thread['updated_at'][:19]}")
    if runs:
        out()
        rows = [
            (
                short(r["run_id"], 8),
                r["status"],
                r["metadata"].get("version") or "-",
                short(r["metadata"].get("document_commit")),
                short(r["metadata"].get("code_commit"))
                + (" pinned" if r["metadata"].get("pinned") else ""),
                r["created_at"][:19],
            )
            for r in runs
        ]
        out(table(rows, ["run", "status", "version", "document", "code", "at"]))
    if thread["values"]:
        out()
        out(yaml_text(_readable(thread["values"])).rstrip())


@threads.command("delete")
@click.argument("thread_id", callback=lambda ctx, param, value: thread_uuid(value))
@repo_option
@json_option
def threads_delete(thread_id: str, repo: str, as_json: bool) -> None:
    """Delete a thread, its checkpoints and its run records.

    \b
    Examples:
      gitassist threads delete 6f1c...
    """
    _threads(repo).delete(thread_id)
    if as_json:
        emit_json({"thread_id": thread_id, "deleted": True})
    else:
        out(f"deleted thread {thread_id}")


COMMANDS: list[click.Command] = [run, threads]
