"""Options shared by many commands, and reading JSON/YAML values from the command line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from gitassist.store import Store

F = TypeVar("F", bound=Callable[..., Any])


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

    return Store(repo)


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


def apply_sets(
    base: dict[str, Any], sets: tuple[str, ...], unsets: tuple[str, ...]
) -> dict[str, Any]:
    """``key=value`` (value parsed as YAML) and ``key`` removals, dotted keys for nesting."""
    data: dict[str, Any] = json.loads(json.dumps(base))
    for item in sets:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--set")
        value = parse_value(raw, "--set") if raw.strip() else ""
        parts = key.split(".")
        _parent(data, parts, item, "--set", create=True)[parts[-1]] = value
    for key in unsets:
        parts = key.split(".")
        _parent(data, parts, key, "--unset", create=False).pop(parts[-1], None)
    return data


def _parent(
    data: dict[str, Any], parts: list[str], item: str, option: str, *, create: bool
) -> dict[str, Any]:
    """The mapping that holds the last of ``parts`` (made on the way with ``create``)."""
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        child = node.get(part) if isinstance(node, dict) else None
        if child is None and create:
            child = node[part] = {}
        if not isinstance(child, dict):
            if child is None:
                return {}
            where = ".".join(parts[: i + 1])
            raise click.BadParameter(
                f"{item!r}: {where} is {json.dumps(child)}, not a mapping", param_hint=option
            )
        node = child
    parent: dict[str, Any] = node
    return parent
