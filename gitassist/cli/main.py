"""The ``gitassist`` command: the group, and the one place errors become exit codes."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from gitassist._version import __version__
from gitassist.cli.render import dumps, err, problem_line
from gitassist.errors import ExitCode, GitassistError

HELP = """Manage LangGraph assistants as YAML files in git.

\b
An assistant (a graph id plus context values, a name, metadata) is a file in
assistants/. Every commit that changes it is a version; refs/assistants/<id>/latest
marks the active one. Name an assistant by id, graph id (its default assistant),
file stem or unique name; add @N or @latest to pick a version.

\b
Start:      gitassist init            then  gitassist create agent --name Bot
Review:     gitassist validate        gitassist diff --format markdown
CI:         gitassist plan            gitassist apply --push origin
Roll back:  gitassist set-latest Bot 1
Run:        gitassist run Bot --input '{"messages": [...]}'
Deploy:     gitassist sync URL|NAME     gitassist drift NAME --exit-code

Exit codes: 0 ok, 1 changes (--exit-code), 2 usage, 3 invalid, 4 not found,
5 conflict, 6 repository state, 7 error in graph code, 8 remote, 70 bug.
"""


class Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # in the order they were added, which is by workflow


@click.group(cls=Group, help=HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gitassist")
@click.option(
    "-C",
    "directory",
    metavar="DIR",
    type=click.Path(exists=True, file_okay=False),
    help="Run as if gitassist was started in DIR (as git -C).",
)
@click.pass_context
def cli(ctx: click.Context, directory: str | None) -> None:
    if directory:  # like git: every path after it, and --repo/-C, is taken from DIR
        previous = os.getcwd()
        os.chdir(directory)
        ctx.call_on_close(lambda: os.chdir(previous))


def _register() -> None:
    from gitassist.cli import (
        apply_cmds,
        complete,
        deploy,
        lifecycle,
        review,
        running,
        versions_cmds,
    )

    for module in (lifecycle, versions_cmds, review, apply_cmds, deploy, running, complete):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def _crash_log() -> Path:
    import datetime as dt
    import tempfile
    import traceback

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "gitassist"
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError:
        base = Path(tempfile.gettempdir())
    path = base / f"crash-{stamp}-{os.getpid()}.log"
    path.write_text(traceback.format_exc(), encoding="utf-8")
    return path


def report(exc: GitassistError, as_json: bool) -> None:
    problems = list(getattr(exc, "issues", []) or [])
    if as_json:
        data = exc.to_dict()
        if problems:
            data["problems"] = [p.to_dict() for p in problems if hasattr(p, "to_dict")]
        err(dumps(data))
        return
    err(f"error: {exc}")
    from gitassist.problems import Problem

    for problem in problems:
        err(f"  {problem_line(problem) if isinstance(problem, Problem) else problem}")
    if exc.hint:
        err(f"hint: {exc.hint}")


def _wants_json(args: list[str]) -> bool:
    """Whether errors should be JSON: --json, --format json or --format=json anywhere."""
    pairs = zip(args, [*args[1:], ""], strict=False)
    return any(
        a in ("--json", "--format=json") or (a == "--format" and b == "json") for a, b in pairs
    )


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    as_json = _wants_json(args)
    try:
        code = cli.main(args=args, prog_name="gitassist", standalone_mode=False)
    except GitassistError as exc:
        report(exc, as_json)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        err("aborted")
        sys.exit(ExitCode.INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err("interrupted")
        sys.exit(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        sys.exit(ExitCode.OK)
    except Exception as exc:  # a bug: say where the traceback went, never dump it
        path = _crash_log()
        err(f"internal error: {type(exc).__name__}: {exc}")
        err(f"this is a bug in gitassist; the traceback is in {path}")
        sys.exit(ExitCode.INTERNAL)
    sys.exit(code if isinstance(code, int) else 0)
