"""versions, set-latest, log: the numbered history of an assistant."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from gitassist.cli.complete import complete_target
from gitassist.cli.options import IntRange, json_option, repo_option, store_for
from gitassist.cli.render import emit_json, out, table
from gitassist.cli.terminal import value as safe


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("target", shell_complete=complete_target)
@click.option("--limit", default=10, show_default=True, type=IntRange(min=1))
@click.option("--offset", default=0, type=IntRange(min=0))
@repo_option
@json_option
@click.pass_context
def versions(
    ctx: click.Context, target: str, limit: int, offset: int, repo: str, as_json: bool
) -> None:
    """List an assistant's versions, newest first, with who made each and where.

    \b
    Examples:
      gitassist versions support-bot
      gitassist versions diff support-bot 1 2  compare two versions (see its --help)
    """
    if target == "diff":
        from gitassist.cli.review import versions_diff

        forwarded = [*ctx.args, "-C", repo] + (["--format", "json"] if as_json else [])
        versions_diff.main(
            args=forwarded, prog_name="gitassist versions diff", standalone_mode=False
        )
        return
    if ctx.args:
        raise click.UsageError(f"unexpected arguments: {' '.join(ctx.args)}")
    from gitassist import naming
    from gitassist import resolve as reads
    from gitassist.cli import fast
    from gitassist.cli.read_cmds import one_deps, print_and_remember
    from gitassist.cli.read_render import version_row
    from gitassist.versions import read_latest

    values = {"target": target, "limit": limit, "offset": offset, "as_json": as_json}
    recorder = fast.recorder("versions", repo, values)
    store = store_for(repo)
    rows = reads.get_versions(store, target, limit=limit, offset=offset)
    assistant_id = naming.resolve_id(store, target)
    active = read_latest(store, assistant_id)
    if active is not None and active.deleted:
        active = None
    data: dict[str, Any]
    if as_json:
        data = {
            "json": [
                {
                    **r.to_version_row(),
                    "gitassist": {
                        **r.provenance(),
                        "active": bool(active and active.version == r.version),
                    },
                }
                for r in rows
            ]
        }
    else:
        data = {
            "rows": [version_row(r) for r in rows],
            "active": active.version if active is not None else None,
        }
    uses_head = not (fast.is_uuid(target.partition("@")[0]) and rows)
    deps = one_deps(assistant_id, uses_head)
    print_and_remember("versions", values, data, store, recorder, deps)


@click.command(name="set-latest")
@click.argument("target", shell_complete=complete_target)
@click.argument("version", type=IntRange(min=1))
@click.option("--reason", help="Why (kept in the ref log).")
@repo_option
@json_option
def set_latest(target: str, version: int, reason: str | None, repo: str, as_json: bool) -> None:
    """Make VERSION the active version of TARGET (rollback or roll forward).

    The branch and its YAML are not touched; the assistant stays on VERSION until
    a new version is made. Concurrent moves are compare-and-swap: one wins, the
    other fails with exit code 5.

    \b
    Examples:
      gitassist set-latest support-bot 1        roll back
      gitassist set-latest support-bot 3 && gitassist push origin
    """
    from gitassist import assistants as ops
    from gitassist.cli.read_cmds import assistant_json

    resolved = ops.set_latest(store_for(repo), target, version, reason=reason)
    if as_json:
        emit_json(assistant_json(resolved))
    else:
        out(
            f"{safe(resolved.document.name)}: version {resolved.version} is active "
            f"(of {resolved.max_version})"
        )


@click.command()
@click.argument("target", shell_complete=complete_target)
@click.option("--limit", type=IntRange(min=1))
@click.option("--env", "environment", metavar="ENV", help="That environment's pointer history.")
@repo_option
@json_option
def log(target: str, limit: int | None, environment: str | None, repo: str, as_json: bool) -> None:
    """The history of TARGET's active version: who moved it, when, from which to which.

    With --env ENV, the history of that environment's pointer (reasons included).

    \b
    Examples:
      gitassist log support-bot
      gitassist log support-bot --json
    """
    from gitassist.naming import resolve_id
    from gitassist.versions import latest_history

    store = store_for(repo)
    if environment is not None:
        from gitassist.environments import declared
        from gitassist.promote import environment as declared_env

        declared_env(declared(store), environment)
    moves = latest_history(store, resolve_id(store, target), limit, environment=environment)
    if as_json:
        emit_json(
            [
                {
                    "version": m.version,
                    "previous": m.previous,
                    "deleted": m.deleted,
                    "moved_at": dt.datetime.fromtimestamp(m.moved_at, dt.UTC).isoformat(),
                    "moved_by": m.moved_by,
                    "reason": m.reason,
                    "commit": m.commit,
                    "ci": m.ci,
                }
                for m in moves
            ]
        )
        return
    rows = []
    for m in moves:
        when = dt.datetime.fromtimestamp(m.moved_at, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        change = (
            "deleted"
            if m.deleted
            else (f"{m.previous} -> {m.version}" if m.previous else f"-> {m.version}")
        )
        rows.append((when, change, m.moved_by, m.reason, m.ci.get("url", "")))
    label = environment.upper() if environment else "LATEST"
    out(table(rows, ("WHEN (UTC)", label, "BY", "WHY", "CI")))


COMMANDS = [versions, set_latest, log]
