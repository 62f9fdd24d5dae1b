"""The ``.env`` file named in langgraph.json ``env`` is confined as every working-tree read is
(gitassist/worktree.py): a symlink on its path, ``..`` or an absolute path outside the
repository is refused (exit 3, naming it) and nothing behind it is read or reaches the graph."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

import pytest

from tests.test_run_env import ENV_GRAPH, SECRET

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.conftest import Repo

PLANTED = f"GA_MODEL='{SECRET}'\n"


def _repo(make_repo: Callable[..., Repo], env: str) -> Repo:
    return make_repo(
        {
            "langgraph.json": json.dumps(
                {"dependencies": ["."], "graphs": {"agent": "./graph.py:graph"}, "env": env}
            ),
            "graph.py": ENV_GRAPH,
            "schemas/agent.context.json": None,
            ".gitignore": ".gitassist/\n__pycache__/\n.env\nconf/\n",
        }
    )


def _plant(tmp_path) -> str:
    secret = tmp_path / "outside" / "secrets.env"
    secret.parent.mkdir()
    secret.write_text(PLANTED, encoding="utf-8")
    return str(secret)


@pytest.mark.parametrize("how", ["symlink", "symlinked-folder", "dotdot", "absolute"])
def test_an_env_file_outside_the_work_tree_is_refused(
    make_repo: Callable[..., Repo], run_cli: Callable[..., Any], tmp_path, how: str
) -> None:
    secret = _plant(tmp_path)
    if how == "symlink":
        repo = _repo(make_repo, ".env")
        os.symlink(secret, repo.path / ".env")
        named = ".env"
    elif how == "symlinked-folder":
        repo = _repo(make_repo, "conf/secrets.env")
        os.symlink(os.path.dirname(secret), repo.path / "conf")
        named = "conf"
    elif how == "dotdot":
        rel = os.path.relpath(secret, tmp_path / "repo0")
        repo = _repo(make_repo, rel)
        named = rel
    else:
        repo = _repo(make_repo, secret)
        named = secret
    before = repo.refs(), repo.git("status", "--porcelain")
    done = run_cli("run", "agent", "--input", '{"question": "q"}', "--repo", str(repo.path))
    assert done.returncode == 3, done.stdout + done.stderr
    first = done.stderr.splitlines()[0]
    assert first.startswith("error: ") and "env file" in first and named in done.stderr, first
    assert SECRET not in done.stdout + done.stderr
    assert "answer" not in done.stdout  # the graph never ran
    assert (repo.refs(), repo.git("status", "--porcelain")) == before


def test_the_client_refuses_it_too(make_repo: Callable[..., Repo], tmp_path) -> None:
    from langgraph_sdk import errors as sdk

    repo = _repo(make_repo, ".env")
    os.symlink(_plant(tmp_path), repo.path / ".env")
    with repo.client() as client, pytest.raises(sdk.UnprocessableEntityError) as caught:
        client.runs.wait(None, "agent", input={"question": "q"})
    assert SECRET not in str(caught.value) and os.environ.get("GA_MODEL") != SECRET


def test_an_absolute_path_inside_the_repository_is_read(
    make_repo: Callable[..., Repo], run_cli: Callable[..., Any], tmp_path
) -> None:
    repo = _repo(make_repo, str(tmp_path / "repo0" / ".env"))  # make_repo's first folder
    (repo.path / ".env").write_text("GA_MODEL=inside\n", encoding="utf-8")
    done = run_cli("run", "agent", "--input", '{"question": "q"}', "--repo", str(repo.path))
    assert done.returncode == 0, done.stderr
    assert "inside" in done.stdout
