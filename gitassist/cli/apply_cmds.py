"""plan, apply, fetch, push: turning the tracked branch into versions, in CI."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from gitassist.cli.markdown import code as md_code
from gitassist.cli.markdown import message as md_message
from gitassist.cli.markdown import text as md_text
from gitassist.cli.options import format_option, json_option, repo_option, store_for
from gitassist.cli.render import emit_json, err, out, review_output, short
from gitassist.cli.terminal import value as safe

if TYPE_CHECKING:
    from collections.abc import Callable

    from gitassist.plan_records import Plan
    from gitassist.ref_merge import RefusedRef


def shown(plan: Plan) -> Plan:
    """``plan`` with every name, path and message it renders redacted (the rest untouched)."""
    from dataclasses import replace

    from gitassist.redact import scrub

    return replace(
        plan,
        branch=scrub(plan.branch),
        versions=scrub(plan.versions),
        moves=scrub(plan.moves),
        deletions=scrub(plan.deletions),
        notes=scrub(plan.notes),
        problems=scrub(plan.problems),
    )


def plan_json(plan: Plan, prune: bool) -> dict[str, Any]:
    plan = shown(plan)
    return {
        "branch": plan.branch,
        "head": plan.head,
        "last_applied": plan.applied.commit,
        "commits": plan.commits_walked,
        "changes": plan.has_changes(prune),
        "versions": [v.__dict__ for v in plan.versions],
        "latest": [m.__dict__ for m in plan.moves],
        "deletions": [d.__dict__ for d in plan.deletions],
        "prune": prune,
        "notes": [n.__dict__ for n in plan.notes],
        "problems": [p.to_dict() for p in plan.problems],
    }


def plan_lines(plan: Plan, prune: bool, markdown: bool = False) -> list[str]:
    plan = shown(plan)
    bullet = "- " if markdown else "  "
    code: Callable[[str], str] = md_code if markdown else safe
    text: Callable[[str], str] = md_message if markdown else safe
    name: Callable[[str], str] = md_text if markdown else safe
    lines = []
    title = f"Plan for {name(plan.branch)} at {short(plan.head)}"
    lines.append(f"### {title}" if markdown else title)
    since = short(plan.applied.commit) if plan.applied.commit else "the first commit"
    lines.append(f"{plan.commits_walked} commit(s) since {code(since)}")
    if markdown:
        lines.append("")
    for v in plan.versions:
        what = {"created": "new assistant", "recreated": "re-created", "changed": "changed"}[v.kind]
        moved = f" (renamed from {code(v.previous_path)})" if v.previous_path else ""
        lines.append(
            f"{bullet}{name(v.name)} {code(v.assistant_id[:8])}: version {v.number} "
            f"({what}{moved}) at {code(short(v.commit))}"
        )
    for m in plan.moves:
        was = f"{m.old} -> " if m.old else ""
        lines.append(f"{bullet}{name(m.name)}: latest {was}{m.new}")
    for d in plan.deletions:
        action = (
            "will be marked deleted" if prune else "file removed; apply --prune marks it deleted"
        )
        lines.append(
            f"{bullet}{name(d.name)} {code(d.assistant_id[:8])}: {action} "
            f"(last version {d.last_version})"
        )
    for n in plan.notes:
        if n.kind in ("renamed", "format_only", "readded_unchanged", "invalid_skipped"):
            detail = {
                "renamed": f"renamed from {code(n.detail)}: no new version",
                "format_only": "format-only change: no new version",
                "readded_unchanged": "re-added unchanged: no new version",
                "invalid_skipped": f"invalid at this commit, skipped: {text(n.detail)}",
            }[n.kind]
            lines.append(f"{bullet}{code(n.path)} at {code(short(n.commit))}: {detail}")
    for p in plan.problems:
        where = f"{code(p.where())}: "
        path = "" if p.json_path == "$" else f" [{code(p.json_path)}]"
        lines.append(f"{bullet}{where}{p.severity}: {text(p.message)}{path}")
    if not plan.has_changes(prune):
        lines.append("No changes: versions and latest refs are up to date.")
    return lines


def _render_plan(plan: Plan, prune: bool, fmt: str) -> None:
    if fmt == "json":
        emit_json(plan_json(plan, prune))
    else:
        out("\n".join(plan_lines(plan, prune, markdown=fmt == "markdown")))


@click.command()
@format_option("human", "json", "markdown")
@click.option("--prune", is_flag=True, help="Show deletions as apply --prune would do them.")
@click.option("--exit-code", is_flag=True, help="Exit 1 when there is something to apply.")
@click.option("--any-branch", is_flag=True, help="Plan HEAD even off the tracked branch.")
@click.option("--remote", help="Fetch this remote's gitassist refs first.")
@click.option(
    "--deployment", metavar="URL|NAME", help="Also show what `gitassist sync` would do there."
)
@repo_option
@review_output
def plan(
    fmt: str,
    prune: bool,
    exit_code: bool,
    any_branch: bool,
    remote: str | None,
    deployment: str | None,
    repo: str,
) -> None:
    """Show what apply would record: versions, latest moves, deletions.

    With --deployment, also what `gitassist sync` would change on that LangGraph server.

    \b
    Examples:
      gitassist plan
      gitassist plan --remote origin --format markdown >> "$GITHUB_STEP_SUMMARY"
      gitassist plan --exit-code --json
    """
    from gitassist.apply import apply as run_apply
    from gitassist.cli.progress import progress

    store = store_for(repo)
    with progress(fmt == "json") as tell:
        outcome = run_apply(
            store, remote=remote, any_branch=any_branch, dry_run=True, progress=tell
        )
    if outcome.fetched is not None:
        _render_refused(outcome.fetched.remote, outcome.fetched.refused)
    if fmt == "json" and deployment:
        from gitassist.sync import deployment_plan

        data = plan_json(outcome.plan, prune)
        data["deployment"] = deployment_plan(store, deployment).to_dict()
        emit_json(data)
    else:
        _render_plan(outcome.plan, prune, fmt)
        if deployment:
            from gitassist.cli.deploy import deployment_plan_lines

            out("\n".join(deployment_plan_lines(store, deployment)))
    if exit_code and outcome.plan.has_changes(prune):
        raise SystemExit(1)


@click.command()
@click.option("--dry-run", is_flag=True, help="Only show the plan.")
@click.option(
    "--push",
    "remote",
    metavar="REMOTE",
    help="Fetch REMOTE's refs first, push the new refs atomically after.",
)
@click.option("--prune", is_flag=True, help="Mark assistants whose files were removed as deleted.")
@click.option("--allow-delete-all", is_flag=True, help="Allow --prune to delete every assistant.")
@click.option("--any-branch", is_flag=True, help="Apply HEAD even off the tracked branch.")
@click.option(
    "--from-rewritten",
    is_flag=True,
    help="The branch was rewritten: continue from where it and the last apply meet.",
)
@format_option("human", "json", "markdown")
@repo_option
@review_output
def apply(
    dry_run: bool,
    remote: str | None,
    prune: bool,
    allow_delete_all: bool,
    any_branch: bool,
    from_rewritten: bool,
    fmt: str,
    repo: str,
) -> None:
    """Record every change on the tracked branch since the last apply.

    Every commit on the first-parent history that changed a document becomes a
    version; each changed assistant's latest moves to its newest version; all refs
    move in one atomic transaction. Idempotent: a second apply does nothing. A
    rollback (set-latest) sticks until the document changes again.

    \b
    Examples:
      gitassist apply --push origin          in CI, after merge
      gitassist apply --dry-run
    """
    from gitassist.apply import apply as run_apply
    from gitassist.cli.progress import progress

    store = store_for(repo)
    with progress(fmt == "json") as tell:
        outcome = run_apply(
            store,
            remote=remote,
            prune=prune,
            allow_delete_all=allow_delete_all,
            any_branch=any_branch,
            from_rewritten=from_rewritten,
            dry_run=dry_run,
            progress=tell,
        )
    refused = outcome.fetched.refused if outcome.fetched else []
    if fmt == "json":
        data = plan_json(outcome.plan, prune)
        data.update(
            {
                "applied": bool(outcome.result and outcome.result.applied) and not dry_run,
                "pushed": outcome.pushed,
                "pushed_refs": outcome.pushed_refs,
                "refused": [r.to_dict() for r in refused],
                "attempts": outcome.attempts,
            }
        )
        emit_json(data)
        return
    _render_refused(remote or "", refused)
    _render_plan(outcome.plan, prune, fmt)
    if dry_run:
        out("(dry run: nothing recorded)")
    elif outcome.plan.has_changes(prune):
        out(
            f"Applied: {len(outcome.plan.versions)} version(s) recorded, "
            f"{len(outcome.plan.moves)} latest ref(s) moved"
            + (f", {len(outcome.pushed_refs)} ref(s) pushed to {remote}" if outcome.pushed else "")
            + "."
        )
    elif outcome.pushed:
        out(f"Pushed {len(outcome.pushed_refs)} ref(s) recorded here earlier to {remote}.")


def _render_refused(remote: str, refused: list[RefusedRef]) -> None:
    for r in refused:
        err(f"warning: refused {remote}'s {safe(r.name)}: {safe(r.reason)}")


@click.command()
@click.argument("remote", default="origin")
@click.option("--force", is_flag=True, help="Take the remote's refs even where local ones differ.")
@repo_option
@json_option
def fetch(remote: str, force: bool, repo: str, as_json: bool) -> None:
    """Fetch REMOTE's assistant refs (versions, latest, apply record).

    \b
    Examples:
      gitassist fetch
      gitassist fetch upstream --force
    """
    from gitassist.remote import fetch as do_fetch

    result = do_fetch(store_for(repo), remote, force=force)
    if as_json:
        emit_json(result.to_dict())
        return
    _render_refused(remote, result.refused)
    for name in result.merged:
        out(f"took {remote}'s {name}: the same version as the local one (kept in the reflog)")
    out(
        f"fetched from {remote}: {len(result.updated)} ref(s) updated"
        + (f", {len(result.refused)} refused" if result.refused else "")
    )


@click.command()
@click.argument("remote", default="origin")
@repo_option
@json_option
def push(remote: str, repo: str, as_json: bool) -> None:
    """Push local assistant refs to REMOTE (e.g. after set-latest), atomically.

    Versions the remote lacks are created; a latest pointer or the apply record moves only
    forward. Nothing on REMOTE is moved back or replaced: such a push is refused with the
    reason (fetch first).

    \b
    Examples:
      gitassist push origin                  after gitassist set-latest
      gitassist push upstream --json
    """
    from gitassist.remote import push_all

    pushed = push_all(store_for(repo), remote)
    if as_json:
        emit_json({"remote": remote, "pushed": pushed})
    else:
        out(f"pushed {len(pushed)} ref(s) to {remote}")


COMMANDS = [plan, apply, fetch, push]
