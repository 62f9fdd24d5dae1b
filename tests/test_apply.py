"""apply and plan: versions from history, idempotence, rollbacks, deletions, guards, remotes."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from typing import TYPE_CHECKING

import pytest

from gitassist.apply import apply
from gitassist.errors import (
    ExitCode,
    GitassistError,
    HistoryRewritten,
    RepositoryError,
    ShallowClone,
)
from tests.conftest import doc_yaml, git

if TYPE_CHECKING:
    from pathlib import Path


def versions_of(repo, aid: str) -> list[int]:
    prefix = f"refs/assistants/{aid}/versions/"
    return sorted(int(n[len(prefix) :]) for n in repo.refs() if n.startswith(prefix))


def latest_version(repo, aid: str) -> int:
    from gitassist.versions import read_latest

    state = read_latest(repo.store(), aid)
    assert state is not None
    return state.version


def test_every_commit_that_changes_a_document_is_a_version(make_repo):
    aid = str(uuid.uuid4())
    repo = make_repo({"assistants/a.yaml": doc_yaml(aid)})
    for prompt in ("one", "two", "three"):
        repo.commit(
            {
                "assistants/a.yaml": doc_yaml(
                    aid, context={"model_name": "echo", "system_prompt": prompt}
                )
            }
        )
    repo.commit({"README": "unrelated"})
    outcome = apply(repo.store())
    assert [v.number for v in outcome.plan.versions] == [1, 2, 3, 4]
    assert versions_of(repo, aid) == [1, 2, 3, 4]
    assert latest_version(repo, aid) == 4
    # each version's content is the document at its commit
    for n, prompt in ((2, "one"), (3, "two"), (4, "three")):
        assert prompt in repo.git(
            "show", f"refs/assistants/{aid}/versions/{n}^{{commit}}:assistants/a.yaml"
        )


def test_apply_then_plan_is_empty(make_repo, run_cli):
    aid = str(uuid.uuid4())
    repo = make_repo({"assistants/a.yaml": doc_yaml(aid)})
    first = run_cli("apply", "-C", str(repo.path), "--json")
    assert json.loads(first.stdout)["changes"] is True
    refs = repo.refs()
    plan = run_cli("plan", "-C", str(repo.path), "--exit-code")
    assert plan.returncode == 0, plan.stdout
    assert "No changes" in plan.stdout
    second = run_cli("apply", "-C", str(repo.path), "--json")
    assert json.loads(second.stdout)["changes"] is False
    assert repo.refs() == refs  # nothing moved


def test_plan_exit_code_and_formats(make_repo, run_cli):
    aid = str(uuid.uuid4())
    repo = make_repo({"assistants/a.yaml": doc_yaml(aid, "Alpha")})
    proc = run_cli("plan", "-C", str(repo.path), "--exit-code")
    assert proc.returncode == 1 and "Alpha" in proc.stdout and "version 1" in proc.stdout
    md = run_cli("plan", "-C", str(repo.path), "--format", "markdown")
    assert md.stdout.startswith("### Plan for main")
    data = json.loads(run_cli("plan", "-C", str(repo.path), "--format", "json").stdout)
    assert data["versions"][0]["assistant_id"] == aid and data["versions"][0]["number"] == 1
    assert repo.refs().keys() == {"refs/heads/main"}  # plan records nothing


def test_format_only_comments_and_renames_make_no_version(make_repo):
    aid = str(uuid.uuid4())
    repo = make_repo({"assistants/a.yaml": doc_yaml(aid)})
    apply(repo.store())
    reformatted = (
        f"# a comment\nname: Bot\nassistant_id: '{aid}'\ngraph_id: agent\n"
        "context: {model_name: echo}\n"
    )
    repo.commit({"assistants/a.yaml": reformatted}, "reformat")
    repo.commit({"assistants/a.yaml": None, "assistants/renamed.yaml": reformatted}, "rename")
    outcome = apply(repo.store())
    assert outcome.plan.versions == []
    kinds = sorted(n.kind for n in outcome.plan.notes)
    assert kinds == ["format_only", "renamed"]
    assert versions_of(repo, aid) == [1]
    # the apply record moved on, so a later plan is empty
    assert apply(repo.store()).plan.commits_walked == 0


def test_rollback_sticks_until_the_document_changes(make_repo):
    aid = str(uuid.uuid4())
    repo = make_repo({"assistants/a.yaml": doc_yaml(aid)})
    for p in ("x", "y"):
        repo.commit(
            {"assistants/a.yaml": doc_yaml(aid, context={"model_name": "echo", "system_prompt": p})}
        )
    apply(repo.store())
    repo.client().assistants.set_latest(aid, 1)
    repo.commit({"other.txt": "x"})
    apply(repo.store())
    assert latest_version(repo, aid) == 1  # unchanged file: rollback sticks
    repo.commit({"assistants/a.yaml": doc_yaml(aid, context={"model_name": "openai"})})
    apply(repo.store())
    assert versions_of(repo, aid) == [1, 2, 3, 4]
    assert latest_version(repo, aid) == 4


def test_deletion_needs_prune_and_keeps_history(make_repo, run_cli):
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    repo = make_repo({"assistants/a.yaml": doc_yaml(a, "A"), "assistants/b.yaml": doc_yaml(b, "B")})
    apply(repo.store())
    repo.commit({"assistants/a.yaml": None}, "remove a")
    plan = run_cli("plan", "-C", str(repo.path))
    assert "apply --prune marks it deleted" in plan.stdout
    apply(repo.store())  # without --prune: still active
    assert repo.client().assistants.get(a)["name"] == "A"
    # still reported by a later plan, after the apply record moved on
    assert "apply --prune" in run_cli("plan", "-C", str(repo.path)).stdout
    apply(repo.store(), prune=True)
    from gitassist import NotFound

    with pytest.raises(NotFound, match="deleted"):
        repo.client().assistants.get(a)
    assert [v["version"] for v in repo.client().assistants.get_versions(a)] == [1]
    assert "No changes" in run_cli("plan", "-C", str(repo.path), "--prune").stdout
    # re-creating the same id continues the numbering
    repo.commit({"assistants/a2.yaml": doc_yaml(a, "A again")})
    apply(repo.store())
    assert versions_of(repo, a) == [1, 2]
    assert repo.client().assistants.get(a)["name"] == "A again"


def test_refuses_to_delete_everything_without_the_extra_flag(make_repo):
    a = str(uuid.uuid4())
    repo = make_repo({"assistants/a.yaml": doc_yaml(a)})
    apply(repo.store())
    repo.commit({"assistants/a.yaml": None})
    before = repo.refs()
    with pytest.raises(GitassistError, match="refusing to delete all"):
        apply(repo.store(), prune=True)
    assert repo.refs() == before
    apply(repo.store(), prune=True, allow_delete_all=True)


def test_guards_branch_dirty_detached(make_repo):
    a = str(uuid.uuid4())
    repo = make_repo({"assistants/a.yaml": doc_yaml(a)})
    repo.git("switch", "-q", "-c", "feature")
    with pytest.raises(RepositoryError, match="tracked branch 'main'"):
        apply(repo.store())
    repo.git("switch", "-q", "main")
    (repo.path / "assistants/a.yaml").write_text(doc_yaml(a, "Dirty"))
    with pytest.raises(RepositoryError, match=r"uncommitted changes to assistants/a\.yaml"):
        apply(repo.store())
    repo.git("checkout", "-q", "--", ".")
    repo.git("checkout", "-q", "--detach")
    with pytest.raises(RepositoryError, match="detached"):
        apply(repo.store())
    assert repo.refs().keys() == {"refs/heads/main", "refs/heads/feature"}


def test_rewritten_history_is_refused_then_continued(make_repo):
    a = str(uuid.uuid4())
    repo = make_repo({"assistants/a.yaml": doc_yaml(a)})
    repo.commit({"assistants/a.yaml": doc_yaml(a, "Two")})
    apply(repo.store())
    repo.git("reset", "-q", "--hard", "HEAD~1")
    repo.commit({"assistants/a.yaml": doc_yaml(a, "Rewritten")}, "rewrite")
    before = repo.refs()
    with pytest.raises(HistoryRewritten, match="rewritten"):
        apply(repo.store())
    assert repo.refs() == before
    apply(repo.store(), from_rewritten=True)
    assert versions_of(repo, a) == [1, 2, 3]
    assert repo.client().assistants.get(a)["name"] == "Rewritten"
    # version 2 still resolves to its old content after the rewrite
    assert repo.client().assistants.get_versions(a, limit=1, offset=1)[0]["name"] == "Two"


def test_merge_commits_count_along_first_parent(make_repo):
    a = str(uuid.uuid4())
    repo = make_repo({"assistants/a.yaml": doc_yaml(a)})
    apply(repo.store())
    repo.git("switch", "-q", "-c", "feature")
    repo.commit({"assistants/a.yaml": doc_yaml(a, "F1")})
    repo.commit({"assistants/a.yaml": doc_yaml(a, "F2")})
    repo.git("switch", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "feature", "-m", "merge feature")
    outcome = apply(repo.store())
    # on main's first-parent history the merge commit is the one change
    assert [v.number for v in outcome.plan.versions] == [2]
    assert repo.client().assistants.get(a)["name"] == "F2"


def test_shallow_clone_stops_with_instructions(make_repo, tmp_path):
    a = str(uuid.uuid4())
    repo = make_repo({"assistants/a.yaml": doc_yaml(a)})
    for i in range(3):
        repo.commit({"assistants/a.yaml": doc_yaml(a, f"N{i}")})
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo.path}", str(clone))
    from gitassist.store import Store

    with pytest.raises(ShallowClone, match="shallow") as info:
        apply(Store(clone))
    assert "fetch-depth: 0" in (info.value.hint or "")
    assert "refs/assistants" not in git(clone, "for-each-ref")
    # with the remote named, apply deepens by itself and numbers correctly
    outcome = apply(Store(clone), remote="origin")
    assert [v.number for v in outcome.plan.versions] == [1, 2, 3, 4]


def _bare_remote(repo, tmp_path: Path) -> Path:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    repo.git("remote", "add", "origin", str(remote))
    repo.git("push", "-q", "origin", "main")
    return remote


def test_push_and_fetch_refs_through_a_remote(make_repo, tmp_path, run_cli):
    a = str(uuid.uuid4())
    repo = make_repo({"assistants/a.yaml": doc_yaml(a)})
    remote = _bare_remote(repo, tmp_path)
    proc = run_cli("apply", "-C", str(repo.path), "--push", "origin", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["pushed"] is True
    remote_refs = git(remote, "for-each-ref", "--format=%(refname)")
    assert f"refs/assistants/{a}/versions/1" in remote_refs
    assert "refs/gitassist/applied" in remote_refs
    # a teammate clones and fetches the refs
    mate = tmp_path / "mate"
    git(tmp_path, "clone", "-q", str(remote), str(mate))
    assert run_cli("fetch", "-C", str(mate)).returncode == 0
    got = run_cli("get", a, "-C", str(mate), "--json")
    assert json.loads(got.stdout)["version"] == 1


CONCURRENT_APPLY = """
import sys
from gitassist.store import Store
from gitassist.apply import apply
remote = sys.argv[2] if len(sys.argv) > 2 else None
outcome = apply(Store(sys.argv[1]), remote=remote)
print(len(outcome.plan.versions), outcome.attempts)
"""


@pytest.mark.parametrize("workers", [2, 4])
def test_concurrent_applies_on_one_repository(make_repo, tmp_path, workers):
    ids = [str(uuid.uuid4()) for _ in range(5)]
    repo = make_repo({f"assistants/a{i}.yaml": doc_yaml(x, f"A{i}") for i, x in enumerate(ids)})
    for k in range(3):
        repo.commit({f"assistants/a{i}.yaml": doc_yaml(x, f"A{i}-{k}") for i, x in enumerate(ids)})
    script = tmp_path / "apply.py"
    script.write_text(CONCURRENT_APPLY)
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(repo.path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    ok = [r for r, p in zip(results, procs, strict=True) if p.returncode == 0]
    assert ok, results
    for _out, err in results:
        assert "Traceback" not in err
    for x in ids:
        assert versions_of(repo, x) == [1, 2, 3, 4]  # contiguous, none lost or doubled
    assert git(repo.path, "fsck", "--no-dangling") == ""
    assert apply(repo.store()).plan.versions == []


@pytest.mark.parametrize("workers", [2, 4])
def test_concurrent_applies_against_one_remote(make_repo, tmp_path, workers):
    ids = [str(uuid.uuid4()) for _ in range(3)]
    repo = make_repo({f"assistants/a{i}.yaml": doc_yaml(x) for i, x in enumerate(ids)})
    repo.commit({f"assistants/a{i}.yaml": doc_yaml(x, "v2") for i, x in enumerate(ids)})
    remote = _bare_remote(repo, tmp_path)
    clones = []
    for w in range(workers):
        clone = tmp_path / f"ci{w}"
        git(tmp_path, "clone", "-q", str(remote), str(clone))
        clones.append(clone)
    script = tmp_path / "apply.py"
    script.write_text(CONCURRENT_APPLY)
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(c), "origin"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for c in clones
    ]
    results = [p.communicate(timeout=180) for p in procs]
    codes = [p.returncode for p in procs]
    assert 0 in codes, results
    for (_out, err), code in zip(results, codes, strict=True):
        assert code in (0, ExitCode.CONFLICT), err
    refs = git(remote, "for-each-ref", "--format=%(refname)").splitlines()
    for x in ids:
        nums = sorted(
            int(r.rsplit("/", 1)[1]) for r in refs if r.startswith(f"refs/assistants/{x}/versions/")
        )
        assert nums == [1, 2]
    assert git(remote, "fsck", "--no-dangling") == ""


def test_the_planners_apply_record_cache_follows_the_ref(make_repo):
    """The cache belongs to the planner (no slot on Store) and is good only while
    refs/gitassist/applied still names the record it holds."""
    from gitassist.applied import read_applied
    from gitassist.store import Store

    aid = str(uuid.uuid4())
    repo = make_repo({"assistants/a.yaml": doc_yaml(aid)})
    store = repo.store()
    assert not hasattr(Store(repo.path), "memo")
    assert read_applied(store).pointer is None
    apply(store)
    first = read_applied(store)
    assert first.commit == repo.git("rev-parse", "HEAD").strip()
    assert read_applied(store) is first  # read once
    repo.commit({"assistants/a.yaml": doc_yaml(aid, name="Renamed")})
    apply(repo.store())  # another Store moves the ref
    again = read_applied(store)
    assert again is not first
    assert again.commit == repo.git("rev-parse", "HEAD").strip()
    assert again.index[aid].path == "assistants/a.yaml"
