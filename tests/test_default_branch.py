"""One default-branch rule (``Store.default_branch``) for apply, review and environments: on a
detached HEAD it is a branch name — the only local branch, else ``main`` — never the commit
id that HEAD holds (D23 in docs/duplicates.md, merged)."""

from __future__ import annotations

import re

from gitassist.environments import tracked_commit
from gitassist.errors import ExitCode

HEX = re.compile(r"\b[0-9a-f]{40}\b")


def _detached(make_repo, *branches: str):
    repo = make_repo()
    repo.git("branch", "-m", "main", "trunk")
    for name in branches:
        repo.git("branch", name)
    repo.git("checkout", "-q", "--detach")
    return repo


def test_detached_head_tracks_the_only_branch(make_repo, cli):
    repo = _detached(make_repo)
    store = repo.store()
    assert store.tracked_branch() == store.default_branch() == "trunk"
    assert tracked_commit(store) is not None  # environments read the same branch
    assert str(tracked_commit(store).id) == repo.git("rev-parse", "trunk").strip()
    result = cli("apply", "-C", str(repo.path), code=ExitCode.REPOSITORY)
    assert "check out trunk" in result.stderr and not HEX.search(result.stderr), result.stderr


def test_detached_head_with_several_branches_is_main_not_a_commit_id(make_repo, cli):
    repo = _detached(make_repo, "dev")
    store = repo.store()
    assert store.tracked_branch() == "main"
    assert tracked_commit(store) is None  # no such branch: nothing declared, no oid as a name
    result = cli("diff", "-C", str(repo.path), code=ExitCode.NOT_FOUND)
    assert "'main'" in result.stderr and not HEX.search(result.stderr), result.stderr


def test_set_latest_and_promote_refuse_an_unrecorded_assistant_alike(make_repo, cli):
    """D12, merged: one check (versions.recorded_latest) for both moves."""
    from tests.conftest import doc_yaml

    aid = "6f1c1c3e-0000-4000-8000-0000000000b1"
    repo = make_repo(
        {
            "assistants/bot.yaml": doc_yaml(aid),
            "gitassist.yaml": "environments:\n  staging:\n    deployment: http://x:1\n",
        }
    )
    moved = cli("set-latest", aid, "1", "-C", str(repo.path), code=ExitCode.NOT_FOUND)
    promoted = cli("promote", aid, "--to", "staging", "-C", str(repo.path), code=ExitCode.NOT_FOUND)
    assert moved.stderr.splitlines()[0] == f"error: assistant {aid} has no recorded versions"
    assert promoted.stderr == moved.stderr
