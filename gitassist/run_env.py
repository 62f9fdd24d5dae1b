"""``langgraph.json`` ``env`` applied to runs exactly as ``langgraph dev`` applies it.

``langgraph dev`` (langgraph_api ``run_server``) reads ``env`` once at start-up:

* a mapping is taken as it is; a string is a ``.env`` file read with python-dotenv's
  ``DotEnv(dotenv_path=env).dict()`` (so ``export``, quotes, comments and ``${VAR}``
  interpolation work as there; a missing file is no variables, not an error);
* every variable is then set in the server process's ``os.environ``, **over** a value the
  process already had; a bare ``NAME`` line (no ``=``) removes ``NAME`` from the environment.

gitassist does the same in the process that runs the graph (the ``gitassist`` command, or your
program when you use the Python client), before the graph is imported, on every run. The
``.env`` path is relative to the repository's working tree (where ``langgraph.json`` is and
where ``langgraph dev`` is started), also for pinned runs: a ``.env`` is not committed. It is
read as every other working-tree file is (gitassist/worktree.py): a regular file inside the
repository, no symlink on its path, no ``..``, no absolute path outside it (exit 3 naming it),
so a pull request cannot point ``env`` at a secret elsewhere on the runner.

Values are secrets: nothing here returns or reports them, only the variables' names.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from gitassist.errors import ConfigError, Location, UnsafePath
from gitassist.project import LANGGRAPH_JSON
from gitassist.worktree import read_text

if TYPE_CHECKING:
    from pathlib import Path

    from gitassist.project import Project


def env_variables(project: Project, root: Path) -> dict[str, str | None]:
    """The variables ``langgraph dev`` would set (None: unset it), by name."""
    env = project.env
    if env is None:
        return {}
    if isinstance(env, dict):
        return dict(env)
    import io

    from dotenv.main import DotEnv

    try:
        text = read_text(root, _inside(root, env))
        return DotEnv(dotenv_path=None, stream=io.StringIO(text or "")).dict() or {}
    except UnsafePath as exc:  # a symlink, `..` or a path outside: never read behind it
        raise UnsafePath(
            f"the env file {env!r} named in {LANGGRAPH_JSON}: {exc.message}",
            hint=exc.hint,
            location=exc.location,
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise ConfigError(
            f"cannot read the env file {env!r} named in {LANGGRAPH_JSON}: {reason}",
            location=Location(LANGGRAPH_JSON),
        ) from None


def _inside(root: Path, env: str) -> str:
    """``env`` as a repository-relative path: an absolute one only if it is inside ``root``
    (then confined like any other: gitassist/worktree.py)."""
    import os.path

    if not os.path.isabs(env):
        return env
    relative = os.path.relpath(os.path.normpath(env), os.path.normpath(root))
    return relative if not relative.startswith("..") else env


def apply_env(project: Project, root: Path) -> tuple[str, ...]:
    """Set the project's ``env`` in ``os.environ`` as ``langgraph dev`` does; the names set."""
    variables = env_variables(project, root)
    for name, value in variables.items():
        try:
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        except ValueError:  # an embedded NUL or "=" (from a .env file)
            raise ConfigError(
                f"the env variable {name!r} from {LANGGRAPH_JSON} cannot be set in the environment",
                location=Location(LANGGRAPH_JSON),
            ) from None
    return tuple(sorted(variables))
