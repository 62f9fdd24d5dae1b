"""The project's configuration: ``langgraph.json`` (graph ids) and ``gitassist.yaml`` (options).

Reading either never imports graph code. Both are read from a git tree (a revision) or from
the working tree, so a pull request from a fork can be checked without running any of it.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gitassist.env_config import Environment, parse_environments
from gitassist.errors import ConfigError, Location

if TYPE_CHECKING:
    from pathlib import Path

    from gitassist.documents import Locator

LANGGRAPH_JSON = "langgraph.json"
CONFIG_FILE = "gitassist.yaml"
# The namespace LangGraph Platform derives default assistant ids from (uuid5 of the graph id).
DEFAULT_ASSISTANT_NAMESPACE = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")


INIT_HINT = "run `gitassist init` here (it writes langgraph.json), or pass --repo PATH"


def init_hint(root: Path, otherwise: str | None = None) -> str | None:
    """The hint for an error where the work tree has no langgraph.json (not a gitassist
    project yet: run ``gitassist init``); else ``otherwise``."""
    return otherwise if (root / LANGGRAPH_JSON).exists() else INIT_HINT


def default_assistant_id(graph_id: str) -> str:
    """The id a LangGraph deployment gives a graph's default assistant."""
    return str(uuid.uuid5(DEFAULT_ASSISTANT_NAMESPACE, graph_id))


@dataclass(frozen=True)
class Deployment:
    """A LangGraph Server deployment named in gitassist.yaml."""

    name: str
    url: str
    api_key_env: str | None = None


@dataclass(frozen=True)
class Settings:
    """Options from gitassist.yaml; every field has a default that needs no file."""

    assistants_dir: str = "assistants"
    schemas_dir: str = "schemas"
    branch: str | None = None  # None: the repository's main branch (origin/HEAD, main, master)
    unknown_context_keys: str = "error"  # "error" | "allow"
    deployments: tuple[Deployment, ...] = ()
    environments: tuple[Environment, ...] = ()
    # where gitassist.yaml sets assistants_dir (None: the default, not configured)
    assistants_dir_set: Location | None = field(default=None, compare=False)

    def environment(self, name: str) -> Environment | None:
        return next((e for e in self.environments if e.name == name), None)

    def require_assistants_dir(self, present: bool) -> None:
        """Refuse a configured ``assistants_dir`` that does not exist (a typo would otherwise
        read as "no assistants"); the default folder may be absent (a fresh repository)."""
        if present or self.assistants_dir_set is None:
            return
        raise ConfigError(
            f"assistants_dir {self.assistants_dir!r} does not exist",
            hint="fix assistants_dir in gitassist.yaml, or create the folder "
            "(an empty one needs a file, e.g. .gitkeep, for git to keep it)",
            location=self.assistants_dir_set,
        )


@dataclass(frozen=True)
class Project:
    """langgraph.json's graphs plus the settings."""

    graphs: dict[str, str] = field(default_factory=dict)
    settings: Settings = field(default_factory=Settings)
    dependencies: tuple[str, ...] = (".",)
    # langgraph.json "env": a .env file's path, or a mapping of variable names to values
    env: str | dict[str, str] | None = None

    def has_graph(self, graph_id: str) -> bool:
        return graph_id in self.graphs


def parse_langgraph_json(text: str, *, path: str = LANGGRAPH_JSON) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path} is not valid JSON: {exc.msg}",
            location=Location(path, exc.lineno, exc.colno),
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("graphs", {}), dict):
        raise ConfigError(
            f'{path} must be an object with "graphs": {{graph_id: "./file.py:attr"}}',
            location=Location(path),
        )
    return data


def dependencies_from(data: dict[str, Any], *, path: str = LANGGRAPH_JSON) -> tuple[str, ...]:
    """``"dependencies"``: a list of strings, as langgraph-cli declares it (``list[str]``).

    A bare string (``"./src"``) is an error rather than a guess: langgraph-cli iterates it
    character by character, so no reading of it is the one ``langgraph dev`` makes.
    """
    deps = data.get("dependencies", ["."])
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        shown = json.dumps(deps)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        raise ConfigError(
            f'"dependencies" must be a list of strings, not {shown}',
            hint='e.g. "dependencies": ["."] or ["./src"]',
            location=Location(path),
        )
    return tuple(deps)


def graphs_from(data: dict[str, Any], *, path: str = LANGGRAPH_JSON) -> dict[str, str]:
    graphs: dict[str, str] = {}
    for graph_id, value in data.get("graphs", {}).items():
        # {"path": "./x.py:graph", "description": ...} is also accepted
        spec = value.get("path") if isinstance(value, dict) else value
        if not isinstance(spec, str) or ":" not in spec:
            raise ConfigError(
                f'graph "{graph_id}" in {path} must be "./file.py:attr" or "module:attr"',
                location=Location(path),
            )
        graphs[str(graph_id)] = spec
    return graphs


def _folder(data: dict[str, Any], key: str, default: str, path: str, text: str | None) -> str:
    """A folder setting: a plain path inside the repository (trailing ``/`` dropped)."""
    from gitassist.worktree import path_problem

    value = data.get(key, default)
    shown = value if isinstance(value, str) else None
    why: str | None = "must be a string"
    if shown is not None:
        why = path_problem(shown.rstrip("/") or shown, portable=True)
    if why is None:
        return str(value).rstrip("/")
    line = column = None
    if text is not None:
        from gitassist.documents import Locator

        line, column = Locator(text).at((key,), value=True)
    raise ConfigError(
        f"{key} {why}, not {value!r}",
        hint=f"{key} names a folder inside the repository, e.g. {default}",
        location=Location(path, line, column),
    )


def env_from(data: dict[str, Any], *, path: str = LANGGRAPH_JSON) -> str | dict[str, str] | None:
    """``"env"``: a ``.env`` file's path or a mapping of names to string values, as
    langgraph-cli declares it. An error names the variable, never its value (a secret)."""
    env = data.get("env")
    if env is None or isinstance(env, str):
        return env
    if not isinstance(env, dict):
        raise ConfigError(
            f'"env" in {path} must be a path to a .env file or an object of strings',
            hint='e.g. "env": ".env" or "env": {"MODEL": "openai"}',
            location=Location(path),
        )
    for name, value in env.items():
        if not isinstance(value, str) or not name or "=" in name or "\0" in name + value:
            raise ConfigError(
                f'"env" in {path}: {name!r} must be a variable name with a string value',
                location=Location(path),
            )
    return dict(env)


def parse_settings(data: Any, *, path: str = CONFIG_FILE, text: str | None = None) -> Settings:
    """``gitassist.yaml``'s settings; ``text`` (the file's text) gives errors a line and column."""
    locator: Locator | None = None
    if text is not None:
        from gitassist.documents import Locator

        locator = Locator(text)
    if data is None:
        return Settings()
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must be a mapping", location=Location(path))
    known = {
        "assistants_dir",
        "schemas_dir",
        "branch",
        "unknown_context_keys",
        "deployments",
        "environments",
    }
    unknown = sorted(set(data) - known)
    if unknown:
        line, column = locator.at((unknown[0],)) if locator is not None else (None, None)
        raise ConfigError(
            f"{path}: unknown option(s) {', '.join(unknown)}",
            hint=f"known options: {', '.join(sorted(known))}",
            location=Location(path, line, column),
        )
    policy = data.get("unknown_context_keys", "error")
    if policy not in ("error", "allow"):
        raise ConfigError(
            f'{path}: unknown_context_keys must be "error" or "allow", not {policy!r}',
            location=Location(path),
        )
    deployments = []
    for name, value in (data.get("deployments") or {}).items():
        spec = {"url": value} if isinstance(value, str) else value
        if not isinstance(spec, dict) or "url" not in spec:
            raise ConfigError(f"{path}: deployment {name!r} needs a url", location=Location(path))
        deployments.append(Deployment(str(name), str(spec["url"]), spec.get("api_key_env")))
    environments = parse_environments(data.get("environments"), locator=locator, path=path)
    deployments += _environment_deployments(environments, deployments, locator, path)
    where = None
    if "assistants_dir" in data:
        line, column = locator.at(("assistants_dir",), value=True) if locator else (None, None)
        where = Location(path, line, column)
    return Settings(
        assistants_dir_set=where,
        assistants_dir=_folder(data, "assistants_dir", "assistants", path, text),
        schemas_dir=_folder(data, "schemas_dir", "schemas", path, text),
        branch=data.get("branch"),
        unknown_context_keys=policy,
        deployments=tuple(deployments),
        environments=environments,
    )


def _environment_deployments(
    environments: tuple[Environment, ...],
    deployments: list[Deployment],
    locator: Locator | None,
    path: str,
) -> list[Deployment]:
    """An environment's deployment is also a named deployment (``sync NAME``); a name in
    both ``deployments:`` and ``environments:`` must agree on the URL."""
    named = {d.name: d for d in deployments}
    extra = []
    for env in environments:
        if env.url is None:
            continue
        other = named.get(env.name)
        if other is None:
            extra.append(Deployment(env.name, env.url, env.api_key_env))
        elif other.url.rstrip("/") != env.url.rstrip("/"):
            line, column = (
                locator.at(("environments", env.name, "deployment"))
                if locator is not None
                else (None, None)
            )
            raise ConfigError(
                f"{env.name!r} is a deployment ({other.url}) and an environment with "
                f"another deployment ({env.url})",
                hint="give both the same url, or keep only one of them",
                location=Location(path, line, column),
            )
    return extra


def load_project(langgraph_text: str | None, config_text: str | None) -> Project:
    """Build the project from the two files' texts (either may be absent)."""
    graphs: dict[str, str] = {}
    deps: tuple[str, ...] = (".",)
    env: str | dict[str, str] | None = None
    if langgraph_text is not None:
        data = parse_langgraph_json(langgraph_text)
        graphs = graphs_from(data)
        deps = dependencies_from(data)
        env = env_from(data)
    settings = Settings()
    if config_text is not None:
        from gitassist.documents import load_yaml_data

        settings = parse_settings(load_yaml_data(config_text, CONFIG_FILE), text=config_text)
    return Project(graphs=graphs, settings=settings, dependencies=deps, env=env)
