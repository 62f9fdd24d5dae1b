"""The ``gitassist`` command: the group, and the one place errors become exit codes."""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from pathlib import Path
from typing import NoReturn

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
5 conflict, 6 repository state, 7 error in graph code, 8 remote,
9 refused by an environment's rules, 70 bug, 74 disk full or I/O error,
130 interrupted.
"""


# Every command, in the order `gitassist --help` lists them (by workflow): its module under
# gitassist/cli/ (which lists it in COMMANDS) and the first sentence of its help, which
# `gitassist --help` shows without importing the module. A command's module is imported only
# when the command runs or its own help is shown. tests/test_cli.py checks this table against
# the modules. A new command: add it to its module's COMMANDS and a row here.
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("lifecycle", "Make DIRECTORY an assistant repository."),
    "create": ("lifecycle", "Create an assistant for GRAPH_ID and commit its file."),
    "get": ("read_cmds", "Show an assistant's active version (or TARGET@N, or --rev REV)."),
    "list": ("read_cmds", "List assistants with their active versions (alias: search)."),
    "search": ("read_cmds", "Search assistants (same as list)."),
    "update": (
        "lifecycle",
        "Change an assistant: a new commit and, on the tracked branch, a new version.",
    ),
    "delete": (
        "lifecycle",
        "Delete an assistant: removes its file in a commit and marks it deleted.",
    ),
    "show": (
        "read_cmds",
        "Print a version's document as committed (TARGET, TARGET@N, TARGET@latest).",
    ),
    "versions": (
        "versions_cmds",
        "List an assistant's versions, newest first, with who made each and where.",
    ),
    "set-latest": (
        "versions_cmds",
        "Make VERSION the active version of TARGET (rollback or roll forward).",
    ),
    "log": (
        "versions_cmds",
        "The history of TARGET's active version: who moved it, when, from which to which.",
    ),
    "promote": (
        "env_cmds",
        "Move environment pointers along the declared path (staging -> production).",
    ),
    "status": (
        "env_cmds",
        "A matrix of assistants x environments: the version each holds, and what is behind.",
    ),
    "validate": (
        "review",
        "Check every assistant document (or PATHS): format, graph_id, unique assistant_id,"
        " context against the committed schema of its graph.",
    ),
    "diff": ("review", "Review assistant changes from BASE to HEAD, field by field."),
    "schemas": (
        "review",
        "Context schemas: export them from the graphs' code; check they are current.",
    ),
    "plan": ("apply_cmds", "Show what apply would record: versions, latest moves, deletions."),
    "apply": ("apply_cmds", "Record every change on the tracked branch since the last apply."),
    "fetch": ("apply_cmds", "Fetch REMOTE's assistant refs (versions, latest, apply record)."),
    "push": (
        "apply_cmds",
        "Push local assistant refs to REMOTE (e.g. after set-latest), atomically.",
    ),
    "sync": ("deploy", "Make a LangGraph Server's assistants equal git's latest versions."),
    "drift": ("deploy", "Report where a server's assistants differ from git, field by field."),
    "adopt": (
        "deploy",
        "Write a server's assistants that git does not know into assistants/, in one commit.",
    ),
    "run": ("running", "Run an assistant locally and stream what each step does."),
    "threads": (
        "running",
        "Conversations kept between runs (in .gitassist/threads.sqlite, git-ignored).",
    ),
    "completion": (
        "complete",
        "Print the shell completion script for SHELL (commands, options, assistants, versions).",
    ),
}


class Group(click.Group):
    """The top-level group: commands are listed from LAZY_COMMANDS and imported on use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        extra = [name for name in self.commands if name not in LAZY_COMMANDS]
        return [*LAZY_COMMANDS, *extra]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in LAZY_COMMANDS:
            import importlib

            module = importlib.import_module(f"gitassist.cli.{LAZY_COMMANDS[cmd_name][0]}")
            for command in module.COMMANDS:
                self.commands.setdefault(str(command.name), command)
        return self.commands.get(cmd_name)

    def get_help(self, ctx: click.Context) -> str:
        text = super().get_help(ctx)
        if ctx.parent is None:  # `gitassist --help`: kept for the next one (cli/fast)
            from gitassist.cli.fast import save_help

            save_help(text)
        return text

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List every command with its short help, importing none that is not loaded yet."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            command = self.commands.get(name) or click.Command(name, help=LAZY_COMMANDS[name][1])
            if not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


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


REVIEW_COMMANDS = (("validate",), ("diff",), ("plan",), ("apply",), ("versions", "diff"))
"""What these print may be public (annotations, a PR comment, a job summary): all of their
output, errors included, is redacted (docs/security.md#secrets)."""


def _is_review(args: list[str]) -> bool:
    words = [a for i, a in enumerate(args) if not a.startswith("-") and args[i - 1 : i] != ["-C"]]
    return any(tuple(words[:2][: len(c)]) == c for c in REVIEW_COMMANDS)


def _crash_log(redact: bool = False) -> Path:
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
    text = traceback.format_exc()
    if redact:
        from gitassist.redact import redact_text

        text = redact_text(text)
    path.write_text(text, encoding="utf-8")
    return path


def report(exc: GitassistError, as_json: bool) -> None:
    problems = list(getattr(exc, "issues", []) or [])
    if as_json:
        data = exc.to_dict()
        if problems:
            data["problems"] = [p.to_dict() for p in problems if hasattr(p, "to_dict")]
        err(dumps(data))
        return
    from gitassist.cli.terminal import value as safe  # one line each, whatever it quotes

    err(f"error: {safe(exc)}")
    from gitassist.problems import Problem

    for problem in problems:
        if isinstance(problem, Problem):
            err(f"  {problem_line(problem)}")
        elif hasattr(problem, "where") and hasattr(problem, "message"):
            err(f"  {safe(f'{problem.where()}: {problem.message}')}")
        else:
            err(f"  {safe(problem)}")
    if exc.hint:
        err(f"hint: {safe(exc.hint)}")


def _wants_json(args: list[str]) -> bool:
    """Whether errors should be JSON: --json, --format json or --format=json anywhere."""
    pairs = zip(args, [*args[1:], ""], strict=False)
    return any(
        a in ("--json", "--format=json") or (a == "--format" and b == "json") for a, b in pairs
    )


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if not _is_review(args):
        _main(args, review=False)
        return
    from gitassist.redact import redacting

    with redacting():
        _main(args, review=True)


def _main(args: list[str], *, review: bool) -> None:
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
        if as_json:  # docs/exit-codes.md: with --json every error is a JSON object on stderr
            code = "usage" if exc.exit_code == ExitCode.USAGE else "error"
            data = {"error": code, "message": exc.format_message()}
            ctx = getattr(exc, "ctx", None)
            if ctx is not None:
                data["hint"] = f"see `{ctx.command_path} --help`"
            err(dumps(data))
        else:
            exc.show(file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err("interrupted")
        sys.exit(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        sys.exit(ExitCode.OK)
    except OSError as exc:
        if exc.errno not in IO_ERRNOS:
            crash(exc, as_json, review)
        io_failure(exc, as_json)
    except Exception as exc:  # a bug: say where the traceback went, never dump it
        crash(exc, as_json, review)
    sys.exit(code if isinstance(code, int) else 0)


IO_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG, errno.EROFS})


def io_failure(exc: OSError, as_json: bool) -> NoReturn:
    """The machine, not gitassist, failed a write (disk full, quota, I/O error): exit 74 with
    one line, no crash log (writing one would fail the same way)."""
    message = f"cannot write: {exc.strerror or exc}"
    with contextlib.suppress(OSError):
        err(dumps({"error": "io", "message": message}) if as_json else f"error: {message}")
    sys.exit(ExitCode.IO)


def crash(exc: Exception, as_json: bool, review: bool) -> NoReturn:
    """Report ``exc`` (being handled) as an internal error: one line, the traceback in a
    log file, exit 70. Also for the warm read path (cli/entry), whose writes can fail too."""
    path = _crash_log(redact=review)
    message = f"internal error: {type(exc).__name__}: {exc}"
    if as_json:
        err(dumps({"error": "internal", "message": message, "crash_log": str(path)}))
    else:
        err(message)
        err(f"this is a bug in gitassist; the traceback is in {path}")
    sys.exit(ExitCode.INTERNAL)
