"""Declared environments: the ``environments:`` section of ``gitassist.yaml``.

::

    environments:
      staging:
        follows: latest            # always equal to latest (optional)
        deployment: http://…       # optional, the same forms as a ``deployments:`` entry
      production:
        promote_from: staging      # only versions staging holds or has held
        protected: true            # every move needs a reason; outside CI also --force
        deployment: {url: https://…, api_key_env: PROD_LANGSMITH_API_KEY}

Parsing only: what the refs of an environment are is :mod:`gitassist.environments`. The
configuration that protects an environment is always the one *committed* on the tracked
branch (see :func:`gitassist.environments.declared`), never the working tree's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from gitassist.errors import ConfigError, Location

if TYPE_CHECKING:
    from gitassist.documents import Locator

ENV_KEYS = ("follows", "promote_from", "protected", "deployment")
DEPLOYMENT_KEYS = ("url", "api_key_env")
# one ref component: what `git check-ref-format` accepts, kept to a conservative alphabet
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}\Z")


@dataclass(frozen=True)
class Environment:
    """One declared environment."""

    name: str
    follows_latest: bool = False
    promote_from: str | None = None
    protected: bool = False
    url: str | None = None
    api_key_env: str | None = None


def valid_name(name: str) -> str | None:
    """Why ``name`` cannot name an environment, or None if it can."""
    if not _NAME.match(name) or name.endswith((".", ".lock")) or ".." in name:
        return "must be a ref component: letters, digits, '_', '-', '.', at most 63"
    if name.isdigit():
        return "must not be all digits (NAME@3 means version 3)"
    if name == "latest":
        return "must not be 'latest' (NAME@latest is the active version)"
    return None


def _fail(
    message: str, locator: Locator | None, parts: tuple[str | int, ...], path: str
) -> NoReturn:
    line, column = locator.at(parts) if locator is not None else (None, None)
    raise ConfigError(message, location=Location(path, line, column))


def deployment_spec(
    value: Any, where: str, locator: Locator | None, parts: tuple[str | int, ...], path: str
) -> tuple[str, str | None]:
    """``url`` or ``{url, api_key_env}``: the forms a ``deployments:`` entry takes."""
    spec = {"url": value} if isinstance(value, str) else value
    if not isinstance(spec, dict) or not isinstance(spec.get("url"), str) or not spec["url"]:
        _fail(f"{where} needs a url", locator, parts, path)
    unknown = sorted(str(k) for k in spec if k not in DEPLOYMENT_KEYS)
    if unknown:
        _fail(
            f"{where}: unknown key {unknown[0]!r} (known: {', '.join(DEPLOYMENT_KEYS)})",
            locator,
            (*parts, unknown[0]),
            path,
        )
    key_env = spec.get("api_key_env")
    if key_env is not None and not isinstance(key_env, str):
        _fail(f"{where}: api_key_env must be a string", locator, (*parts, "api_key_env"), path)
    return str(spec["url"]), key_env


def parse_environments(
    data: Any, *, locator: Locator | None = None, path: str = "gitassist.yaml"
) -> tuple[Environment, ...]:
    """The ``environments:`` mapping; :class:`ConfigError` with line and column otherwise."""
    if data is None:
        return ()
    base: tuple[str | int, ...] = ("environments",)
    if not isinstance(data, dict):
        _fail("environments must be a mapping of names to settings", locator, base, path)
    envs: dict[str, Environment] = {}
    for name, raw in data.items():
        where = (*base, name)
        why = valid_name(str(name))
        if why:
            _fail(f"environment name {str(name)[:64]!r} {why}", locator, where, path)
        spec = {} if raw is None else raw
        if not isinstance(spec, dict):
            _fail(f"environment {name!r} must be a mapping", locator, where, path)
        for key in spec:
            if key not in ENV_KEYS:
                _fail(
                    f"environment {name!r}: unknown key {str(key)[:64]!r} "
                    f"(known: {', '.join(ENV_KEYS)})",
                    locator,
                    (*where, key),
                    path,
                )
        follows = spec.get("follows")
        if follows not in (None, "latest"):
            _fail(
                f"environment {name!r}: follows must be 'latest'",
                locator,
                (*where, "follows"),
                path,
            )
        source = spec.get("promote_from")
        if source is not None and not isinstance(source, str):
            _fail(
                f"environment {name!r}: promote_from must name an environment",
                locator,
                (*where, "promote_from"),
                path,
            )
        if follows is not None and source is not None:
            _fail(
                f"environment {name!r}: follows latest and promote_from exclude each other",
                locator,
                (*where, "promote_from"),
                path,
            )
        protected = spec.get("protected", False)
        if not isinstance(protected, bool):
            _fail(
                f"environment {name!r}: protected must be true or false",
                locator,
                (*where, "protected"),
                path,
            )
        url = key_env = None
        if spec.get("deployment") is not None:
            url, key_env = deployment_spec(
                spec["deployment"],
                f"environment {name!r}'s deployment",
                locator,
                (*where, "deployment"),
                path,
            )
        envs[str(name)] = Environment(
            str(name), follows == "latest", source, protected, url, key_env
        )
    for env in envs.values():
        where = (*base, env.name, "promote_from")
        if env.promote_from is None:
            continue
        if env.promote_from == env.name or env.promote_from not in envs:
            _fail(
                f"environment {env.name!r}: promote_from {env.promote_from!r} is not another "
                f"environment (declared: {', '.join(envs)})",
                locator,
                where,
                path,
            )
        seen, step = [env.name], envs[env.promote_from]
        while step.promote_from is not None:
            if step.name in seen:
                _fail(
                    f"environment {env.name!r}: the promote_from path loops "
                    f"({' -> '.join([*seen, step.name])})",
                    locator,
                    where,
                    path,
                )
            seen.append(step.name)
            step = envs[step.promote_from]
    return tuple(envs.values())
