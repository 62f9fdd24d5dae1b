"""promote, status: environments (docs/environments.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from gitassist.cli.options import IntRange, format_option, repo_option, store_for
from gitassist.cli.render import emit_json, out, table
from gitassist.cli.terminal import value as safe

if TYPE_CHECKING:
    from gitassist.promote import Move, Release


def _move_line(move: Move) -> str:
    if move.deleted:
        return (
            f"  - {safe(move.name)} ({move.assistant_id[:8]}): deleted (was version {move.before})"
        )
    was = f"version {move.before}" if move.before is not None else "not promoted"
    return f"  ~ {safe(move.name)} ({move.assistant_id[:8]}): {was} -> version {move.version}"


def release_lines(release: Release, markdown: bool = False) -> list[str]:
    from gitassist.cli.review_render import _field_line, _md_fields

    verb = "would move" if release.dry_run or not release.done else "moved"
    head = f"Promote {release.source} -> {release.target}: {verb} {len(release.moves)}"
    head += f" assistant(s), {release.unchanged} unchanged"
    lines = [f"## {head}" if markdown else head, ""] if markdown else [head]
    for move in release.moves:
        lines.append(_move_line(move).strip() if markdown else _move_line(move))
        if markdown:
            lines += ["", *_md_fields(tuple(move.changes))]
        else:
            lines += [f"      {safe(_field_line(c))}" for c in move.changes]
    for held in release.not_promoted:
        name, why = safe(held["name"]), safe(held["why"])
        lines.append(f"  = {name} ({held['assistant_id'][:8]}): not promoted: {why}")
    return lines


def _render(release: Release, fmt: str) -> None:
    if fmt == "json":
        emit_json(release.to_dict())
    else:
        out("\n".join(release_lines(release, markdown=fmt == "markdown")))


@click.command()
@click.argument("target", required=False)
@click.option("--to", "to", required=True, metavar="ENV", help="The environment to move.")
@click.option("--version", type=IntRange(min=1), help="Promote this version (default: --from's).")
@click.option("--from", "source", metavar="ENV", help="Take the version this environment holds.")
@click.option("--all", "all_", is_flag=True, help="Every assistant that differs: one release.")
@click.option("--only", multiple=True, metavar="NAME", help="With --all: only these (repeatable).")
@click.option("--prune", is_flag=True, help="With --all: promote deletions too.")
@click.option("--allow-delete-all", is_flag=True, help="With --prune: allow emptying ENV.")
@click.option("--reason", help="Why (kept in the pointer's history; protected: required).")
@click.option("--force", is_flag=True, help="Move a protected environment outside CI.")
@click.option("--dry-run", is_flag=True, help="Only show what would move.")
@click.option("--exit-code", is_flag=True, help="Exit 1 when something would move / moved.")
@format_option("human", "json", "markdown")
@repo_option
def promote(
    target: str | None,
    to: str,
    version: int | None,
    source: str | None,
    all_: bool,
    only: tuple[str, ...],
    prune: bool,
    allow_delete_all: bool,
    reason: str | None,
    force: bool,
    dry_run: bool,
    exit_code: bool,
    fmt: str,
    repo: str,
) -> None:
    """Move environment pointers along the declared path (staging -> production).

    \b
    Examples:
      gitassist promote Bot --to production --reason "ticket 42"
      gitassist promote Bot --to production --version 3 --reason rollback
      gitassist promote --all --from staging --to production --dry-run
      gitassist promote --all --from staging --to production --reason "release 7"

    Only versions the environment's promote_from environment holds or has held
    are accepted. --all moves every assistant whose pointer differs in one atomic
    ref transaction (all or nothing); the plan and the field changes are printed
    first. A protected environment needs --reason and, outside CI, --force.
    Exit 9 when the environment's rules refuse the move.
    """
    from gitassist import promote as ops
    from gitassist.errors import ExitCode

    store = store_for(repo)
    if all_:
        if target is not None or version is not None:
            raise click.UsageError("--all takes no TARGET and no --version")
        from gitassist.cli.progress import progress

        with progress(fmt == "json") as tell:
            plan = ops.plan_release(store, source, to, only=only, prune=prune, progress=tell)
        plan.dry_run = dry_run
        if fmt != "json":
            _render(plan, fmt)  # the plan first, then the one transaction
        if not dry_run:
            ops.execute(store, plan, reason=reason, force=force, allow_delete_all=allow_delete_all)
            if fmt != "json" and plan.moves:
                out(f"moved {len(plan.moves)} pointer(s) of {plan.target} in one transaction")
        if fmt == "json":
            _render(plan, fmt)
        result = plan
    else:
        if target is None:
            raise click.UsageError("name an assistant (TARGET) or pass --all")
        if only or prune or allow_delete_all:
            raise click.UsageError("--only, --prune and --allow-delete-all go with --all")
        result = ops.promote(
            store,
            target,
            to,
            version=version,
            source=source,
            reason=reason,
            force=force,
            dry_run=dry_run,
        )
        _render(result, fmt)
    if exit_code and result.moves:
        raise SystemExit(ExitCode.CHANGES)


def status_rows(store: Any) -> tuple[list[str], list[dict[str, Any]]]:
    from gitassist.environments import declared
    from gitassist.promote import _name
    from gitassist.resolve import recorded_ids
    from gitassist.versions import read_latest

    envs = declared(store)
    columns = ["latest", *envs]
    rows = []
    for assistant_id in sorted(recorded_ids(store)):
        latest = read_latest(store, assistant_id)
        if latest is None:
            continue
        row: dict[str, Any] = {
            "assistant_id": assistant_id,
            "name": _name(store, latest.path, latest.blob),
            "environments": {},
        }
        states = {"latest": latest, **{e: read_latest(store, assistant_id, e) for e in envs}}
        for column in columns:
            state = states[column]
            cell: dict[str, Any] = {
                "version": None if state is None or state.deleted else state.version,
                "deleted": bool(state and state.deleted),
            }
            env = envs.get(column)
            if env is not None and env.promote_from is not None:
                src = states[env.promote_from]
                if src is not None and not src.deleted:
                    mine = cell["version"]
                    cell["behind"] = src.version != mine
                    cell["source_version"] = src.version
            row["environments"][column] = cell
        rows.append(row)
    return columns, rows


def _cell(cell: dict[str, Any], source: str | None) -> str:
    if cell["deleted"]:
        return "deleted"
    text = "-" if cell["version"] is None else f"v{cell['version']}"
    if cell.get("behind"):
        text += f" (<- v{cell['source_version']} in {source})"
    return text


def _pending_apply(store: Any) -> bool:
    """Whether the tracked branch moved past the last applied commit."""
    import pygit2

    from gitassist.environments import tracked_commit
    from gitassist.versions import APPLIED_REF, applied_fields

    head = tracked_commit(store)
    oid = store.refdb.read(APPLIED_REF)
    if head is None:
        return False
    record = store.repo.get(oid) if oid else None
    applied = applied_fields(record)[0] if isinstance(record, pygit2.Commit) else None
    return applied != str(head.id)


@click.command()
@format_option("human", "json", "markdown")
@repo_option
def status(fmt: str, repo: str) -> None:
    """A matrix of assistants x environments: the version each holds, and what is behind.

    "-" means the environment does not hold the assistant (not promoted);
    "(<- vN in staging)" that its promote_from environment holds another version.

    \b
    Examples:
      gitassist status
      gitassist status --format json
    """
    from gitassist.environments import declared

    store = store_for(repo)
    columns, rows = status_rows(store)
    pending = _pending_apply(store)
    if fmt == "json":
        emit_json({"environments": columns, "assistants": rows, "pending_apply": pending})
        return
    if pending:
        out("pending apply: the tracked branch has commits apply has not recorded yet")
    envs = declared(store)
    sources = {c: (envs[c].promote_from if c in envs else None) for c in columns}
    body = [
        (
            r["name"],
            r["assistant_id"][:8],
            *(_cell(r["environments"][c], sources[c]) for c in columns),
        )
        for r in rows
    ]
    headers = ("NAME", "ID", *(c.upper() for c in columns))
    if fmt == "markdown":
        from gitassist.cli.markdown import cell

        out("| " + " | ".join(headers) + " |")
        out("|" + "---|" * len(headers))
        for line in body:
            out("| " + " | ".join(cell(str(v)) for v in line) + " |")
        return
    if not body:
        out("no recorded assistants yet")
        return
    out(table(body, headers))


COMMANDS = [promote, status]
