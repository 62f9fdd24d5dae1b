"""The user's LangGraph graphs: load them from langgraph.json specs.

This is the only module that imports langgraph or the user's graph code; the heavy imports
happen inside the functions that need them so commands that never touch a graph stay fast.

Loading executes user code. Every exception it raises is turned into a
:class:`~gitassist.errors.UserCodeError` whose message names the user's own file and line, so
the user never sees a gitassist traceback for a bug in their graph.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib
import importlib.util
import inspect
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitassist.errors import ConfigError, GitassistError, NotFound, UserCodeError
from gitassist.tracebacks import is_under, user_frame

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
    from types import ModuleType

__all__ = ["display_path", "load_graph"]

_MODULE_PREFIX = "gitassist_graph_"
# Modules imported from user directories under their own names (siblings of a graph file,
# `package.module` specs). They are evicted before the next load so that two repositories or
# two checkouts with the same module names never see each other's code.
_USER_MODULES: set[str] = set()


@dataclass(frozen=True)
class _Spec:
    """A parsed `path/file.py:attr` or `package.module:attr` graph spec."""

    graph_id: str
    text: str
    target: str
    attr: str

    @property
    def is_file(self) -> bool:
        return self.target.endswith(".py") or "/" in self.target or "\\" in self.target

    @property
    def label(self) -> str:
        return f"graph '{self.graph_id}' ({self.text})"


# --------------------------------------------------------------------------------------------
# Loading


def load_graph(
    root: Path,
    graph_id: str,
    spec: str,
    *,
    dependencies: Sequence[str] | None = None,
    config: Mapping[str, Any] | None = None,
) -> Any:
    """Load graph `graph_id` from `spec` (`./path/file.py:attr` or `package.module:attr`).

    The attribute may be a compiled graph, a `StateGraph` (compiled here) or a factory taking no
    argument or one RunnableConfig dict (`config`, default `{"configurable": {}}`), sync or
    async, returning either. `root` and the `dependencies` that are directories (read from
    `root/langgraph.json` when not given) are on `sys.path` during the import. Each call
    executes the user's code afresh.
    """
    root = root.resolve()
    parsed = _parse_spec(graph_id, spec)
    dirs = _import_dirs(root, dependencies)
    with _user_code(parsed, dirs, root, "importing its module"):
        module = _import_target(parsed, root, dirs)
    value = _attribute(module, parsed)
    return _as_graph(value, parsed, dirs, root, config)


def _parse_spec(graph_id: str, spec: str) -> _Spec:
    target, _, attr = spec.rpartition(":")
    if not target or not attr.isidentifier():
        raise ConfigError(
            f"graph '{graph_id}': spec {spec!r} is not 'path/file.py:attribute' "
            "or 'package.module:attribute'",
            hint="fix the entry under 'graphs' in langgraph.json",
        )
    return _Spec(graph_id=graph_id, text=spec, target=target, attr=attr)


def _import_dirs(root: Path, dependencies: Sequence[str] | None) -> list[Path]:
    if dependencies is None:
        dependencies = _read_dependencies(root)
    dirs = [root]
    for entry in dependencies:
        candidate = (root / entry).resolve()
        if candidate.is_dir() and candidate not in dirs:
            dirs.append(candidate)
    return dirs


def _read_dependencies(root: Path) -> list[str]:
    """``dependencies`` of ``root/langgraph.json``, by the one parser (:mod:`gitassist.project`)."""
    from gitassist.project import LANGGRAPH_JSON, dependencies_from, parse_langgraph_json
    from gitassist.worktree import read_text

    text = read_text(root, LANGGRAPH_JSON)  # a symlinked langgraph.json is refused
    if text is None:
        return []
    return list(dependencies_from(parse_langgraph_json(text)))


def _import_target(spec: _Spec, root: Path, dirs: Sequence[Path]) -> ModuleType:
    with _import_paths(dirs):
        if spec.is_file:
            return _exec_file(spec, root)
        return _import_module(spec)


@contextlib.contextmanager
def _import_paths(dirs: Sequence[Path]) -> Iterator[None]:
    """Put `dirs` first on sys.path for the import; remember the user modules it brought in."""
    for name in sorted(_USER_MODULES):
        sys.modules.pop(name, None)
    _USER_MODULES.clear()
    before = set(sys.modules)
    added = [str(d) for d in dirs]
    sys.path[:0] = added
    importlib.invalidate_caches()
    try:
        yield
    finally:
        for entry in added:
            with contextlib.suppress(ValueError):
                sys.path.remove(entry)
        new = set(sys.modules) - before
        _USER_MODULES.update(n for n in new if _moduleis_under(sys.modules.get(n), dirs))


def _moduleis_under(module: ModuleType | None, dirs: Sequence[Path]) -> bool:
    if module is None or module.__name__.startswith(_MODULE_PREFIX):
        return False
    places = [getattr(module, "__file__", None), *getattr(module, "__path__", [])]
    return any(p and is_under(Path(p), dirs) for p in places)


def _module_name(path: Path) -> str:
    """A module name unique to the absolute file path: no two checkouts share a module."""
    digest = hashlib.sha256(str(path).encode("utf-8")).hexdigest()[:16]
    stem = re.sub(r"\W", "_", path.stem)
    return f"{_MODULE_PREFIX}{digest}_{stem}"


def _exec_file(spec: _Spec, root: Path) -> ModuleType:
    path = (root / spec.target).resolve()
    if not path.is_file():
        raise NotFound(
            f"{spec.label}: file {spec.target} does not exist under {root}",
            hint="fix the path under 'graphs' in langgraph.json",
        )
    name = _module_name(path)
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise ConfigError(f"{spec.label}: {spec.target} cannot be imported as a Python file")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module  # dataclasses and pydantic look the module up by name
    try:
        module_spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _import_module(spec: _Spec) -> ModuleType:
    try:
        return importlib.import_module(spec.target)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if not (spec.target == missing or spec.target.startswith(missing + ".")):
            raise  # the user's module imports something that is missing: their error
        raise NotFound(
            f"{spec.label}: module '{missing}' not found",
            hint="check the module path in langgraph.json and its 'dependencies'",
        ) from None


def _attribute(module: ModuleType, spec: _Spec) -> Any:
    namespace = vars(module)
    if spec.attr in namespace:
        return namespace[spec.attr]
    candidates = sorted(k for k, v in namespace.items() if _is_graph(v) or _is_state_graph(v))
    hint = f"graphs defined there: {', '.join(candidates)}" if candidates else None
    raise NotFound(f"{spec.label}: {spec.target} has no attribute '{spec.attr}'", hint=hint)


def _as_graph(
    value: Any, spec: _Spec, dirs: Sequence[Path], root: Path, config: Mapping[str, Any] | None
) -> Any:
    if _is_graph(value) or _is_state_graph(value):
        return _compiled(value, spec, dirs, root)
    if not callable(value):
        raise ConfigError(
            f"{spec.label}: '{spec.attr}' is a {type(value).__name__}, not a compiled graph, "
            "a StateGraph or a function returning one"
        )
    args = _factory_args(value, spec, config)
    with _user_code(spec, dirs, root, "calling its factory"):
        result = value(*args)
        if inspect.isawaitable(result):
            result = _run_sync(result)
    if not (_is_graph(result) or _is_state_graph(result)):
        raise ConfigError(
            f"{spec.label}: factory '{spec.attr}' returned a {type(result).__name__}, "
            "not a compiled graph or a StateGraph"
        )
    return _compiled(result, spec, dirs, root)


def _compiled(graph: Any, spec: _Spec, dirs: Sequence[Path], root: Path) -> Any:
    if _is_graph(graph):
        return graph
    with _user_code(spec, dirs, root, "compiling its StateGraph"):
        return graph.compile()


def _is_graph(value: Any) -> bool:
    return not inspect.isclass(value) and hasattr(value, "invoke") and hasattr(value, "astream")


def _is_state_graph(value: Any) -> bool:
    from langgraph.graph import StateGraph

    return isinstance(value, StateGraph)


def _factory_args(
    factory: Callable[..., Any], spec: _Spec, config: Mapping[str, Any] | None
) -> tuple[Any, ...]:
    """No argument, or the RunnableConfig when the factory takes a positional parameter."""
    try:
        params = list(inspect.signature(factory).parameters.values())
    except (TypeError, ValueError):  # builtins without a signature: call them bare
        return ()
    kind = inspect.Parameter
    positional = [p for p in params if p.kind in (kind.POSITIONAL_ONLY, kind.POSITIONAL_OR_KEYWORD)]
    required = [p for p in params if p.default is kind.empty and p.kind not in _VARIADIC]
    if len(required) > 1 or any(p.kind is kind.KEYWORD_ONLY for p in required):
        raise ConfigError(
            f"{spec.label}: a graph factory takes no argument or one (a RunnableConfig); "
            f"'{spec.attr}' requires {', '.join(p.name for p in required)}"
        )
    takes_one = positional or any(p.kind is kind.VAR_POSITIONAL for p in params)
    return (dict(config) if config is not None else {"configurable": {}},) if takes_one else ()


_VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


def _run_sync(awaitable: Awaitable[Any]) -> Any:
    """Await an async factory's result, also when called from inside a running event loop."""

    async def wait() -> Any:
        return await awaitable

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(wait())
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, wait()).result()


@contextlib.contextmanager
def _user_code(spec: _Spec, dirs: Sequence[Path], root: Path, doing: str) -> Iterator[None]:
    """Turn an exception raised by the user's code into a UserCodeError naming file and line."""
    try:
        yield
    except GitassistError:
        raise
    except (Exception, SystemExit) as exc:
        raise _user_code_error(exc, spec, dirs, root, doing) from exc


def _user_code_error(
    exc: BaseException, spec: _Spec, dirs: Sequence[Path], root: Path, doing: str
) -> UserCodeError:
    what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    message = f"{spec.label} failed while {doing}: {what}"
    frame = user_frame(exc, dirs)
    if frame is None:
        return UserCodeError(message, hint="the error comes from the graph's own code")
    filename, line, source = frame
    shown = display_path(Path(filename), root)
    hint = f"{shown}, line {line}: {source}" if source else None
    return UserCodeError(f"{message} (at {shown}, line {line})", hint=hint)


def display_path(path: Path, root: Path) -> str:
    resolved = path.resolve()
    return resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else str(path)
