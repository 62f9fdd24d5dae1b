"""The warm read path: ``get``, ``show``, ``versions`` and ``list`` answered from the read
cache (:mod:`gitassist.read_cache`) without importing click, pygit2, pydantic or a YAML
library.

:func:`run` reads the command line itself, for the plain forms only (options spelled out as
``--opt VALUE`` or ``--opt=VALUE``, each at most once; anything else - ``--rev``, ``@env``
targets, ``versions diff``, a repeated or unknown option - is left to click). On a hit it
prints exactly what the ordinary command printed, through the same renderers
(:mod:`gitassist.cli.read_render`); on any miss it returns False before printing anything,
and the ordinary path runs (and fills the cache). The ordinary commands build their cache
keys with :func:`key` so that both paths agree on them.
"""

from __future__ import annotations

import os
import re
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any

    from gitassist.read_cache import Recorder

COMMANDS = ("get", "show", "versions", "list", "search")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
_NUMBER = re.compile(r"[0-9]{1,9}\Z")
_ANSI = re.compile(r"\033\[[0-?]*[ -/]*[@-~]")  # click.utils.strip_ansi, as click.echo uses it
_SORT_BY = ("assistant_id", "created_at", "updated_at", "name", "graph_id")

# name -> (value kind, default); kinds: "flag", "str", "repo", ("int", min), ("choice", ...)
_OPTIONS: dict[str, dict[str, tuple[Any, Any]]] = {
    "get": {"--json": ("flag", False), "--repo": ("repo", None)},
    "show": {"--json": ("flag", False), "--repo": ("repo", None)},
    "versions": {
        "--json": ("flag", False),
        "--repo": ("repo", None),
        "--limit": (("int", 1), 10),
        "--offset": (("int", 0), 0),
    },
    "list": {
        "--json": ("flag", False),
        "--repo": ("repo", None),
        "--graph": ("str", None),
        "--name": ("str", None),
        "--metadata": ("str", None),
        "--limit": (("int", 1), 100),
        "--offset": (("int", 0), 0),
        "--sort-by": (("choice", *_SORT_BY), "name"),
        "--sort-order": (("choice", "asc", "desc"), "asc"),
    },
}
_OPTIONS["search"] = _OPTIONS["list"]


def cacheable_target(target: str) -> bool:
    """A TARGET the cache answers for: a name, ``NAME@N`` or ``NAME@latest`` (an
    environment's pointer depends on the committed environments: the ordinary path)."""
    if not target or target.startswith("-"):
        return False
    if "@" not in target:
        return True
    version = target.rpartition("@")[2]
    return version == "latest" or bool(_NUMBER.match(version))


def _field(option: str) -> str:
    name = option.lstrip("-").replace("-", "_")
    return "as_json" if name == "json" else name


def key(command: str, values: dict[str, Any]) -> list[Any]:
    """The cache key of a read: the command (``search`` is ``list``), its TARGET and its
    option values as click converted them (not ``--repo``: the entry is per work tree)."""
    command = "list" if command == "search" else command
    names = [_field(n) for n in _OPTIONS[command] if n != "--repo"]
    if command != "list":
        names.append("target")
    return [command, *[values.get(n) for n in names]]


def is_uuid(target: str) -> bool:
    return _UUID.match(target) is not None


def parse(args: list[str]) -> tuple[str, str, dict[str, Any]] | None:
    """(command, start path, option values) for a command line of the plain form; None for
    anything else (click decides)."""
    base = os.getcwd()
    i = 0
    if args[:1] == ["-C"] and len(args) >= 2:
        if not args[1] or args[1].startswith("-") or not os.path.isdir(args[1]):
            return None
        base = os.path.join(base, args[1])
        i = 2
    if i >= len(args) or args[i] not in COMMANDS:
        return None
    command = args[i]
    spec = _OPTIONS[command]
    values: dict[str, Any] = {}
    positional: list[str] = []
    rest = args[i + 1 :]
    j = 0
    while j < len(rest):
        arg = rest[j]
        j += 1
        if not arg.startswith("-"):
            positional.append(arg)
            continue
        name, eq, value = arg.partition("=")
        name = "--repo" if name == "-C" and not eq else name
        if name not in spec or name in values:
            return None
        kind = spec[name][0]
        if kind == "flag":
            if eq:
                return None
            values[name] = True
            continue
        if not eq:
            if j >= len(rest):
                return None
            value = rest[j]
            j += 1
        if value.startswith("-"):
            return None
        if kind == "repo" and not value:
            return None
        if isinstance(kind, tuple) and kind[0] == "int":
            if not _NUMBER.match(value) or int(value) < kind[1]:
                return None
            values[name] = int(value)
        elif isinstance(kind, tuple) and kind[0] == "choice":
            if value not in kind[1:]:
                return None
            values[name] = value
        else:
            values[name] = value
    if command in ("list", "search"):
        if positional:
            return None
    elif len(positional) != 1 or not cacheable_target(positional[0]) or positional == ["diff"]:
        return None  # `versions diff` is a review command
    repo = values.pop("--repo", None) or os.environ.get("GITASSIST_REPO") or "."
    out = {_field(n): values.get(n, d) for n, (_, d) in spec.items() if n != "--repo"}
    if positional:
        out["target"] = positional[0]
    return command, os.path.join(base, repo), out


def _stream_ok(stream: Any) -> bool:
    """Whether click.echo would write to ``stream`` as it is (UTF-8, not replaced)."""
    import codecs

    encoding = getattr(stream, "encoding", None)
    try:
        return encoding is not None and codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return False


def _stream_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except Exception:  # click.utils.isatty treats a failing isatty as False
        return False


def _echo_text(stream: Any, text: str) -> str:
    """``text`` as click.echo would write it to ``stream`` (ANSI codes stripped off a tty)."""
    return text if _stream_tty(stream) else _ANSI.sub("", text)


def render(command: str, values: dict[str, Any], data: Any) -> tuple[str, str]:
    """(stdout, stderr) of the ordinary command, from its cached data."""
    from gitassist.cli import read_render as rr
    from gitassist.cli.render import dumps
    from gitassist.cli.terminal import text as escaped

    if command in ("get", "show") and values["as_json"]:
        return dumps(data["json"]) + "\n", ""
    if command == "get":
        return escaped(rr.describe_text(data["view"])) + "\n", ""
    if command == "show":  # exact bytes when redirected (`show X > bot.yaml`)
        text = escaped(data["text"]) if _stream_tty(sys.stdout) else data["text"]
        return text + ("\n" if data["nl"] else ""), ""
    if command == "versions":
        if values["as_json"]:
            return dumps(data["json"]) + "\n", ""
        return escaped(rr.versions_text(data["rows"], data["active"])) + "\n", ""
    warnings = escaped(rr.warning_lines(data["warnings"]))
    if values["as_json"]:
        return dumps(data["json"]) + "\n", warnings
    return escaped(rr.list_text(data["rows"])) + "\n", warnings


HELP_ARGS = (["--help"], ["-h"])
HELP_PENDING: list[list[Any]] = []  # the key of a `gitassist --help` that missed (cli.main saves)


def help_file() -> str | None:
    """Where ``gitassist --help``'s text is kept: the user's cache directory (as crash logs);
    None when that is not an absolute path (a relative ``XDG_CACHE_HOME`` is invalid, as the
    XDG spec says, and would put the file in the work tree)."""
    base = os.environ.get("XDG_CACHE_HOME") or ""
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):
        return None
    return os.path.join(base, "gitassist", "help-v1.json")


def help_key() -> list[Any] | None:
    """Everything ``gitassist --help``'s text depends on: gitassist's version and the code
    that makes it, click's installed files, the width click wraps to; None if unknown."""
    import shutil

    from gitassist._version import __version__
    from gitassist.read_cache import code_stamp

    stamps: list[Any] = [1, __version__, code_stamp()]
    for entry in sys.path:  # click as the import system finds it (a regular package)
        init = os.path.join(entry or ".", "click", "__init__.py")
        if os.path.isfile(init):
            st = os.stat(init)
            stamps.append([init, st.st_mtime_ns, st.st_size])
            break
    else:
        return None
    stamps.append(shutil.get_terminal_size().columns)  # click's HelpFormatter reads it so
    return stamps


def save_help(text: str) -> None:
    """For cli.main: keep the text of a ``gitassist --help`` that missed."""
    import json

    path = help_file()
    if not HELP_PENDING or path is None:
        return
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump({"key": HELP_PENDING[0], "text": text}, fh)
        os.replace(tmp, path)
    except (OSError, ValueError):
        if os.path.exists(tmp):
            os.unlink(tmp)


def _help(args: list[str]) -> str | None:
    """``gitassist --help``'s text from the cache (None: a miss; the key is then pending)."""
    import json

    from gitassist.gitlite import read_small

    found, path = help_key(), help_file()
    if found is None or path is None:
        return None
    raw = read_small(path)
    data = json.loads(raw) if raw is not None else None
    if isinstance(data, dict) and data.get("key") == found and isinstance(data.get("text"), str):
        return str(data["text"])
    HELP_PENDING[:] = [found]
    return None


def run(args: list[str]) -> bool:
    """Answer ``args`` from the read cache; True when it did (the output is written)."""
    try:
        if args in HELP_ARGS:
            text = _help(args)
            if text is None or not _stream_ok(sys.stdout):
                return False
            return _write(_echo_text(sys.stdout, text + "\n"), "")
        parsed = parse(args)
        if parsed is None:
            return False
        command, start, values = parsed
        from gitassist import read_cache

        data = read_cache.lookup(start, key(command, values))
        if not isinstance(data, dict):
            return False
        stdout, stderr = render(command, values, data)
        streams = (sys.stdout, sys.stderr)
        if not all(s is not None and _stream_ok(s) for s in streams):
            return False
        stdout, stderr = _echo_text(sys.stdout, stdout), _echo_text(sys.stderr, stderr)
        stdout.encode(sys.stdout.encoding, sys.stdout.errors or "strict")
        stderr.encode(sys.stderr.encoding, sys.stderr.errors or "strict")
    except Exception:  # anything unexpected: the ordinary path decides
        return False
    return _write(stdout, stderr)


def _write(stdout: str, stderr: str) -> bool:
    try:
        if stderr:
            sys.stderr.write(stderr)
            sys.stderr.flush()
        if stdout:
            sys.stdout.write(stdout)
        sys.stdout.flush()
    except BrokenPipeError:  # as the ordinary path: a closed pipe is not an error
        pass
    return True


def recorder(command: str, repo: str, values: dict[str, Any]) -> Recorder | None:
    """For the ordinary path: a recorder of this read, reading its dependencies now (None
    when the read is not one the warm path answers)."""
    target = values.get("target")
    if target is not None and not cacheable_target(target):
        return None
    from gitassist import read_cache

    deps = ["config", "head", *(f"work:{name}" for name in read_cache.WORK_FILES)]
    if command in ("list", "search"):
        deps += ["ref:" + read_cache.APPLIED_REF, "refstamp:refs/assistants"]
    else:  # by id: that assistant's refs; by name: all of them, until its id is known
        name = str(target).rpartition("@")[0] if "@" in str(target) else str(target)
        deps.append(f"refs:refs/assistants/{name}" if is_uuid(name) else "refstamp:refs/assistants")
    try:
        return read_cache.Recorder(os.path.join(os.getcwd(), repo), key(command, values), deps)
    except OSError:  # e.g. the working directory is gone: the read goes on, unrecorded
        return None
