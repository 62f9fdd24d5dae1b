"""Options shared by many commands, and reading JSON/YAML values from the command line."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from gitassist.store import Store

F = TypeVar("F", bound=Callable[..., Any])


class IntRange(click.IntRange):
    """click.IntRange for ASCII digits only: int() also reads "١" (Arabic-Indic one) as 1."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not re.fullmatch(r"\s*[+-]?[0-9]{1,18}\s*", value):
            self.fail(f"{value!r} is not a whole number written in ASCII digits", param, ctx)
        return super().convert(value, param, ctx)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Write JSON for machines.")(func)


def format_option(*choices: str, help: str | None = None) -> Callable[[F], F]:
    """``--format CHOICE`` (first choice is the default) plus ``--json`` for ``--format json``."""

    def decorate(func: F) -> F:
        func = click.option("--json", "fmt", flag_value="json", help="Same as --format json.")(func)
        return click.option(
            "--format",
            "fmt",
            type=click.Choice(list(choices)),
            default=choices[0],
            show_default=True,
            help=help,
        )(func)

    return decorate


def repo_option(func: F) -> F:
    return click.option(
        "--repo",
        "-C",
        "repo",
        default=".",
        show_default=True,
        envvar="GITASSIST_REPO",
        type=click.Path(file_okay=False),
        help="The assistant repository (any path inside it).",
    )(func)


def store_for(repo: str) -> Store:
    """The repository a command works on (``--repo``/``-C``)."""
    from gitassist.store import Store

    store = Store(repo)
    ctx = click.get_current_context(silent=True)
    if ctx is not None:  # what the core noticed on the way (e.g. an index rebuilt), on stderr

        def warn() -> None:
            for text in store.warnings:
                click.echo(f"warning: {text}", err=True)

        ctx.call_on_close(warn)
    return store


def parse_value(text: str, what: str) -> Any:
    """JSON or YAML text, or @file (.json/.yaml), as data, within the document limits.

    JSON that parses but is not portable (``NaN``, ``Infinity``, ``1e999``, a 5,000-digit
    integer) or is beyond a limit is refused here rather than read again as YAML.
    """
    from gitassist.documents import load_yaml_data
    from gitassist.errors import DocumentError
    from gitassist.limits import JSONLimitError, load_json

    source = what
    if text.startswith("@"):
        path = Path(text[1:])
        if not path.is_file():
            raise click.BadParameter(f"no such file: {path}", param_hint=what)
        source, text = str(path), path.read_text(encoding="utf-8", errors="surrogateescape")
    try:
        return load_json(text)
    except JSONLimitError as exc:
        where = f"{source}:{exc.lineno}:{exc.colno}: " if source != what else ""
        raise click.BadParameter(f"{where}{exc.msg}", param_hint=what) from None
    except json.JSONDecodeError:
        pass
    try:
        return load_yaml_data(text, source)
    except DocumentError as exc:
        raise click.BadParameter(f"not JSON or YAML: {exc}", param_hint=what) from None


def parse_mapping(text: str | None, what: str) -> dict[str, Any] | None:
    if text is None:
        return None
    value = parse_value(text, what)
    if not isinstance(value, dict):
        raise click.BadParameter("must be a JSON object / YAML mapping", param_hint=what)
    return value


def parse_sets(sets: tuple[str, ...]) -> list[tuple[str, Any]]:
    """``key=value`` options as ``(key, value)`` pairs, the value parsed as YAML (an empty
    value is the empty string). Applying them is the core's (``assistants.edit_context``)."""
    pairs: list[tuple[str, Any]] = []
    for item in sets:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--set")
        pairs.append((key, parse_value(raw, "--set") if raw.strip() else ""))
    return pairs
