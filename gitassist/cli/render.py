"""Everything the CLI writes to the terminal: human text or JSON, and errors."""

from __future__ import annotations

import functools
import json

from gitassist.cli import terminal

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the warm read path)
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any, TypeVar

    from gitassist.problems import Problem

    F = TypeVar("F", bound="Callable[..., Any]")


def review_output(fn: F) -> F:
    """For a review command (what it prints may be public): redact every secret it writes to
    stdout or stderr (``gitassist.redact.redacting``). ``main`` also redacts the error report
    of these commands; this covers a caller that invokes the click command directly."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from gitassist.redact import redacting

        with redacting():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def dumps(data: Any) -> str:
    """JSON text; bidi and C1 characters inside strings as ``\\uXXXX`` (the same value)."""
    return terminal.json_text(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def out(text: str = "") -> None:
    """Print human text: control and bidi characters escaped (``gitassist.cli.terminal``);
    each user value in it should have gone through ``terminal.value`` (newlines)."""
    import click  # here, not at the top: the warm read path renders without click

    click.echo(terminal.text(text))


def err(text: str) -> None:
    import click

    click.echo(terminal.text(text), err=True)


def emit_json(data: Any) -> None:
    import click

    click.echo(dumps(data))


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    cells = [[str(h) for h in headers]]
    cells += [["" if c is None else str(c) for c in r] for r in rows]
    if terminal.needs_escape(" ".join(c for row in cells for c in row)):  # one scan, usually
        cells = [[terminal.value(c) for c in row] for row in cells]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def yaml_text(data: Any) -> str:
    from gitassist.documents import _dump, _to_commented

    return _dump(_to_commented(data))


def problem_line(problem: Problem) -> str:
    """The one line for a problem: ``file:line:col: severity: message [$.json.path]``."""
    path = "" if problem.json_path == "$" else f" [{problem.json_path}]"
    return terminal.value(f"{problem.where()}: {problem.severity}: {problem.message}{path}")


def short(value: str | None, n: int = 12) -> str:
    return (value or "")[:n]
