"""Environments: declared in the committed gitassist.yaml, env pointers that move only along
the declared path, atomic releases, and fetch/push refusing what breaks the invariant."""

from __future__ import annotations

import json
import os
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from conftest import Repo, doc_yaml, git
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitassist.errors import ExitCode

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

ENVS = """environments:
  staging:
    follows: latest
  production:
    promote_from: staging
    protected: true
"""
A = str(uuid.uuid4())
B = str(uuid.uuid4())


@pytest.fixture(autouse=True)
def _outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)


def gitassist_refs(path: Path) -> dict[str, str]:
    text = git(path, "for-each-ref", "--format=%(objectname) %(refname)")
    pairs = (line.split(" ", 1) for line in text.splitlines())
    return {n: o for o, n in pairs if n.startswith(("refs/assistants/", "refs/gitassist/"))}


def env_ref(assistant_id: str, env: str) -> str:
    return f"refs/assistants/{assistant_id}/env/{env}"


def held(repo: Repo, assistant_id: str, env: str | None) -> int | None:
    from gitassist.versions import read_latest

    state = read_latest(repo.store(), assistant_id, env)
    return None if state is None or state.deleted else state.version


def ctx(n: int) -> dict[str, str]:
    return {"model_name": "echo", "system_prompt": f"v{n}"}


@pytest.fixture
def envrepo(make_repo: Callable[..., Repo], cli: Any) -> Repo:
    """Two assistants applied twice in one apply each: versions 1 and 2 recorded, latest (and
    staging) at 2; then a third commit applied: version 3."""
    repo = make_repo(
        {"gitassist.yaml": ENVS, "assistants/a.yaml": doc_yaml(A, "A", context=ctx(1))}
    )
    repo.commit({"assistants/b.yaml": doc_yaml(B, "B", context=ctx(1))})
    repo.commit({"assistants/a.yaml": doc_yaml(A, "A", context=ctx(2))})
    cli("apply", "-C", str(repo.path))
    repo.commit({"assistants/a.yaml": doc_yaml(A, "A", context=ctx(3))})
    cli("apply", "-C", str(repo.path))
    return repo


def run(cli: Any, repo: Repo, *args: str, code: int = 0) -> Any:
    return cli(*args, "-C", str(repo.path), code=code)


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        (ENVS.replace("protected: true", "protectd: true"), ":6:5", "unknown key 'protectd'"),
        (ENVS.replace("production:", "latest:"), ":4:3", "must not be 'latest'"),
        (ENVS.replace("production:", "'42':"), ":4:3", "all digits"),
        (ENVS.replace("production:", "a/b:"), ":4:3", "ref component"),
        (ENVS.replace("promote_from: staging", "promote_from: qa"), ":5:5", "not another"),
        ("environments:\n  a: {promote_from: b}\n  b: {promote_from: a}\n", ":2:7", "loops"),
        (
            "deployments: {production: 'http://x'}\n"
            + ENVS.replace("protected: true", "deployment: http://y"),
            ":7:5",
            "another deployment",
        ),
    ],
)
def test_bad_environments_are_errors_with_line_and_column(
    make_repo: Callable[..., Repo], cli: Any, text: str, where: str, words: str
) -> None:
    repo = make_repo({"gitassist.yaml": text})
    before = gitassist_refs(repo.path)
    result = run(cli, repo, "status", code=ExitCode.INVALID)
    first = result.stderr.splitlines()[0]
    assert f"gitassist.yaml{where}" in first and words in first, first
    assert gitassist_refs(repo.path) == before


def test_environment_deployment_is_a_named_deployment(make_repo: Callable[..., Repo]) -> None:
    from gitassist.server import resolve_target

    text = ENVS.replace("follows: latest", "follows: latest\n    deployment: http://s:1/")
    repo = make_repo({"gitassist.yaml": text})
    assert resolve_target(repo.store(), "staging").url == "http://s:1"


def test_an_uncommitted_gitassist_yaml_never_relaxes_protection(envrepo: Repo, cli: Any) -> None:
    # the working tree says production is not protected (and has no source): ignored
    (envrepo.path / "gitassist.yaml").write_text("environments:\n  production: {}\n")
    before = gitassist_refs(envrepo.path)
    refused = run(cli, envrepo, "promote", "A", "--to", "production", code=ExitCode.REFUSED)
    assert "protected" in refused.stderr
    refused = run(
        cli, envrepo, "promote", "A", "--to", "production", "--version", "1",
        "--reason", "r", "--force", code=ExitCode.REFUSED,
    )  # fmt: skip
    assert "never held by 'staging'" in refused.stderr
    assert gitassist_refs(envrepo.path) == before


def test_an_uncommitted_branch_setting_does_not_pick_the_declaration(
    envrepo: Repo, cli: Any
) -> None:
    envrepo.git("branch", "evil")
    envrepo.git("switch", "-q", "evil")
    envrepo.commit({"gitassist.yaml": "environments:\n  production: {}\n"}, "unprotected")
    envrepo.git("switch", "-q", "main")
    (envrepo.path / "gitassist.yaml").write_text(ENVS + "branch: evil\n")  # uncommitted
    before = gitassist_refs(envrepo.path)
    refused = run(
        cli, envrepo, "promote", "A", "--to", "production", "--version", "1", "--force",
        code=ExitCode.REFUSED,
    )  # fmt: skip
    assert "protected" in refused.stderr
    assert gitassist_refs(envrepo.path) == before


# --------------------------------------------------------------------------- follows: latest


def test_staging_follows_latest_on_apply_create_update_and_set_latest(
    envrepo: Repo, cli: Any
) -> None:
    assert (held(envrepo, A, None), held(envrepo, A, "staging")) == (3, 3)
    assert held(envrepo, A, "production") is None
    run(cli, envrepo, "set-latest", "A", "1")
    assert held(envrepo, A, "staging") == 1
    run(cli, envrepo, "update", "B", "--set", "system_prompt=new")
    assert held(envrepo, B, "staging") == 2
    created = json.loads(
        run(
            cli, envrepo, "create", "agent", "--name", "C", "--set", "model_name=echo", "--json"
        ).stdout
    )
    assert held(envrepo, created["assistant_id"], "staging") == 1
    # the staging move history has every move, newest first
    log = json.loads(run(cli, envrepo, "log", "A", "--env", "staging", "--json").stdout)
    assert [m["version"] for m in log] == [1, 3, 2]


# --------------------------------------------------------------------------- promote


def test_promote_refusals_move_nothing(envrepo: Repo, cli: Any) -> None:
    before = gitassist_refs(envrepo.path)
    cases = [
        (("A", "--to", "production"), ExitCode.REFUSED, "needs a reason"),
        (("A", "--to", "production", "--reason", "x"), ExitCode.REFUSED, "--force"),
        (
            ("A", "--to", "production", "--version", "1", "--reason", "x", "--force"),
            ExitCode.REFUSED,
            "version 1 of",
        ),
        (
            ("A", "--to", "production", "--version", "9", "--reason", "x", "--force"),
            ExitCode.NOT_FOUND,
            "no version 9",
        ),
        (("A", "--to", "qa"), ExitCode.NOT_FOUND, "unknown environment 'qa'"),
        (("A", "--to", "staging", "--version", "2"), ExitCode.REFUSED, "follows latest"),
    ]
    for args, code, words in cases:
        result = run(cli, envrepo, "promote", *args, code=code)
        lines = result.stderr.splitlines()
        assert lines[0].startswith("error: ") and words in lines[0], result.stderr
    assert "'staging'" in run(
        cli, envrepo, "promote", "A", "--to", "production", "--version", "1",
        "--reason", "x", "--force", code=ExitCode.REFUSED,
    ).stderr  # fmt: skip
    assert gitassist_refs(envrepo.path) == before


def test_environments_declared_later_are_brought_in_line_by_a_release(
    make_repo: Callable[..., Repo], cli: Any
) -> None:
    repo = make_repo({"assistants/a.yaml": doc_yaml(A, "A")})
    run(cli, repo, "apply")
    repo.commit({"gitassist.yaml": ENVS})  # declared after A's versions exist
    assert held(repo, A, "staging") is None
    run(cli, repo, "promote", "--all", "--to", "staging")
    assert held(repo, A, "staging") == 1
    run(cli, repo, "promote", "A", "--to", "production", "--reason", "r", "--force")
    assert held(repo, A, "production") == 1


def test_promote_deleted_assistant_is_refused(envrepo: Repo, cli: Any) -> None:
    run(cli, envrepo, "delete", "B")
    before = gitassist_refs(envrepo.path)
    result = run(
        cli, envrepo, "promote", B, "--to", "production", "--reason", "x", "--force",
        code=ExitCode.NOT_FOUND,
    )  # fmt: skip
    assert "deleted" in result.stderr
    assert gitassist_refs(envrepo.path) == before


def test_promote_in_ci_needs_only_a_reason(
    envrepo: Repo, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("GITHUB_RUN_ID", "77")
    run(cli, envrepo, "promote", "A", "--to", "production", "--reason", "ticket 1")
    assert held(envrepo, A, "production") == 3
    log = json.loads(run(cli, envrepo, "log", "A", "--env", "production", "--json").stdout)
    assert log[0]["reason"] == "ticket 1" and log[0]["ci"]["run_id"] == "77"


def test_promote_one_then_resolve_everywhere(envrepo: Repo, cli: Any) -> None:
    run(cli, envrepo, "set-latest", "A", "2")  # staging holds 2 again; it held 3 too
    run(
        cli, envrepo, "promote", "A", "--to", "production", "--version", "3",
        "--reason", "r", "--force",
    )  # fmt: skip
    assert held(envrepo, A, "production") == 3
    got = json.loads(run(cli, envrepo, "get", "A@production", "--json").stdout)
    assert got["version"] == 3 and got["context"]["system_prompt"] == "v3"
    assert json.loads(run(cli, envrepo, "get", "A@staging", "--json").stdout)["version"] == 2
    assert "v3" in run(cli, envrepo, "show", "A@production").stdout
    diff = json.loads(
        run(cli, envrepo, "versions", "diff", "A", "staging", "production", "--json").stdout
    )
    assert (diff["from"], diff["to"]) == (2, 3)
    missing = run(cli, envrepo, "get", "B@production", code=ExitCode.NOT_FOUND)
    assert "not promoted" in missing.stderr
    client = envrepo.client()
    from gitassist import get_sync_client

    prod = get_sync_client(repo=envrepo.path, environment="production")
    assert prod.assistants.get(A)["version"] == 3
    assert client.assistants.get(A)["version"] == 2
    ran = prod.runs.wait(None, A, input={"question": "q"})
    assert ran["answer"] == "echo|v3|q"  # production's version 3, not latest's 2
    shown = run(cli, envrepo, "run", "A@production", "--input", '{"question": "q"}').stdout
    assert "echo|v3|q" in shown


def test_bound_client_set_latest_moves_the_environment_by_promote_rules(
    envrepo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gitassist import get_sync_client

    staging = get_sync_client(repo=envrepo.path, environment="staging")
    assert staging.assistants.get(A)["version"] == 3
    prod = get_sync_client(repo=envrepo.path, environment="production")
    with pytest.raises(Exception, match="not promoted"):  # as on a deployment: 404
        prod.assistants.get(A)
    from gitassist.promote import promote

    promote(envrepo.store(), A, "production", version=2, reason="first", force=True)
    assert prod.assistants.get(A)["version"] == 2
    with pytest.raises(Exception, match="protected"):
        prod.assistants.set_latest(A, 3)
    monkeypatch.setenv("CI", "1")
    assert prod.assistants.set_latest(A, 3)["version"] == 3
    assert held(envrepo, A, "production") == 3
    with pytest.raises(Exception, match="never held"):
        prod.assistants.set_latest(A, 1)
    assert held(envrepo, A, "production") == 3
    with pytest.raises(Exception, match="unknown environment"):
        get_sync_client(repo=envrepo.path, environment="qa")


def test_release_is_one_transaction_with_a_plan(envrepo: Repo, cli: Any) -> None:
    args = ("promote", "--all", "--from", "staging", "--to", "production")
    before = gitassist_refs(envrepo.path)
    dry = json.loads(run(cli, envrepo, *args, "--dry-run", "--json").stdout)
    assert {m["name"]: m["version"] for m in dry["moves"]} == {"A": 3, "B": 1}
    assert gitassist_refs(envrepo.path) == before
    run(cli, envrepo, *args, "--dry-run", "--exit-code", code=ExitCode.CHANGES)
    done = run(cli, envrepo, *args, "--reason", "release 1", "--force")
    assert done.stdout.index("would move 2") < done.stdout.index("moved 2 pointer(s)")
    assert "system_prompt" in done.stdout  # the field diff of what production changes
    assert (held(envrepo, A, "production"), held(envrepo, B, "production")) == (3, 1)
    # one transaction: one reflog entry message for both refs, both written in one packed-refs
    again = json.loads(run(cli, envrepo, *args, "--reason", "x", "--force", "--json").stdout)
    assert again["moves"] == [] and again["unchanged"] == 2
    md = run(cli, envrepo, *args, "--dry-run", "--format", "markdown").stdout
    assert md.startswith("## Promote staging -> production")


def test_release_only_and_prune_with_the_wipe_all_guard(envrepo: Repo, cli: Any) -> None:
    args = ("promote", "--all", "--from", "staging", "--to", "production", "--reason", "r")
    run(cli, envrepo, *args, "--only", "B", "--force")
    assert (held(envrepo, A, "production"), held(envrepo, B, "production")) == (None, 1)
    run(cli, envrepo, "delete", "B")
    assert held(envrepo, B, "staging") is None  # staging follows latest: deleted
    only_b = ("--only", B, "--force")
    held_back = json.loads(run(cli, envrepo, *args, *only_b, "--json").stdout)
    assert held_back["not_promoted"][0]["name"] == "B"
    assert held(envrepo, B, "production") == 1  # a deletion reaches it only with --prune
    before = gitassist_refs(envrepo.path)
    refused = run(cli, envrepo, *args, *only_b, "--prune", code=ExitCode.INVALID)
    assert "refusing to delete all 1" in refused.stderr  # it would empty production
    assert gitassist_refs(envrepo.path) == before
    run(cli, envrepo, *args, *only_b, "--prune", "--allow-delete-all")
    assert held(envrepo, B, "production") is None
    run(cli, envrepo, *args, "--force")
    assert held(envrepo, A, "production") == 3


def test_status_matrix(envrepo: Repo, cli: Any) -> None:
    data = json.loads(run(cli, envrepo, "status", "--json").stdout)
    assert data["environments"] == ["latest", "staging", "production"]
    row = next(r for r in data["assistants"] if r["name"] == "A")
    assert row["environments"]["production"] == {
        "version": None,
        "deleted": False,
        "behind": True,
        "source_version": 3,
    }
    text = run(cli, envrepo, "status").stdout
    assert "STAGING" in text and "(<- v3 in staging)" in text
    assert data["pending_apply"] is False
    envrepo.commit({"assistants/a.yaml": doc_yaml(A, "A", context=ctx(4))})
    assert "pending apply" in run(cli, envrepo, "status").stdout


# --------------------------------------------------------------------------- remotes


def _forge_production(clone: Path, version: int) -> str:
    """A production pointer to ``version`` made with gitassist's own writer (so it is
    well-formed), set with plain git: what anyone with push access can do."""
    from gitassist.store import Store
    from gitassist.version_write import make_pointer
    from gitassist.versions import read_version

    store = Store(clone)
    record = read_version(store, A, version)
    assert record is not None
    oid = make_pointer(
        store, A, previous=None, version=version, max_version=3, tag=record.tag,
        commit=record.commit, path=record.path, blob=record.blob, deleted=False,
        reason="forged", ci={}, name="A", environment="production",
    )  # fmt: skip
    git(clone, "update-ref", env_ref(A, "production"), oid)
    return oid


@pytest.fixture
def shared(envrepo: Repo, tmp_path: Path, cli: Any) -> tuple[Repo, Path]:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    envrepo.git("remote", "add", "origin", str(remote))
    envrepo.git("push", "-q", "origin", "main")
    run(cli, envrepo, "push", "origin")
    return envrepo, remote


def test_fetch_refuses_a_forged_production_ref_pushed_with_plain_git(
    shared: tuple[Repo, Path], tmp_path: Path, cli: Any
) -> None:
    repo, remote = shared
    mallory = tmp_path / "mallory"
    git(tmp_path, "clone", "-q", str(remote), str(mallory))
    git(mallory, "fetch", "-q", "origin", "+refs/assistants/*:refs/assistants/*")
    oid = _forge_production(mallory, 1)  # version 1 never was on staging: apply went 1 -> 2
    git(mallory, "push", "-q", "origin", f"{oid}:{env_ref(A, 'production')}")
    before = gitassist_refs(repo.path)
    result = json.loads(run(cli, repo, "fetch", "origin", "--json").stdout)
    refused = {r["ref"]: r["reason"] for r in result["refused"]}
    assert "never held" in refused[env_ref(A, "production")]
    assert gitassist_refs(repo.path) == before
    # a real promotion pushed by gitassist is taken by the next fetch of another clone
    run(cli, repo, "promote", "A", "--to", "production", "--reason", "r", "--force")
    run(cli, repo, "push", "origin", code=ExitCode.CONFLICT)  # origin holds the forged ref
    git(remote, "update-ref", "-d", env_ref(A, "production"))
    run(cli, repo, "push", "origin")
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    cli("fetch", "origin", "-C", str(other))
    assert (
        gitassist_refs(other)[env_ref(A, "production")]
        == gitassist_refs(repo.path)[env_ref(A, "production")]
    )


def test_push_refuses_a_production_ref_forged_locally(shared: tuple[Repo, Path], cli: Any) -> None:
    repo, remote = shared
    _forge_production(repo.path, 1)
    result = run(cli, repo, "push", "origin", "--json", code=ExitCode.CONFLICT)
    problems = json.loads(result.stderr)["problems"]
    assert any("never held" in p["reason"] for p in problems), problems
    assert env_ref(A, "production") not in gitassist_refs(remote)


def test_fetch_refuses_an_undeclared_environment(
    shared: tuple[Repo, Path], tmp_path: Path, cli: Any
) -> None:
    repo, remote = shared
    from gitassist.store import Store
    from gitassist.version_write import make_pointer
    from gitassist.versions import read_version

    store = Store(repo.path)
    record = read_version(store, A, 3)
    assert record is not None
    oid = make_pointer(
        store, A, previous=None, version=3, max_version=3, tag=record.tag,
        commit=record.commit, path=record.path, blob=record.blob, deleted=False,
        reason="x", ci={}, name="A", environment="qa",
    )  # fmt: skip
    git(repo.path, "push", "-q", "origin", f"{oid}:{env_ref(A, 'qa')}")
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    result = json.loads(cli("fetch", "origin", "--json", "-C", str(other)).stdout)
    assert any("not an environment declared" in r["reason"] for r in result["refused"])
    assert env_ref(A, "qa") not in gitassist_refs(other)
    assert env_ref(A, "staging") in gitassist_refs(other)


def test_local_write_and_ci_apply_of_the_same_commit_do_not_conflict_on_staging(
    shared: tuple[Repo, Path], tmp_path: Path, cli: Any
) -> None:
    repo, remote = shared
    ci = tmp_path / "ci"
    git(tmp_path, "clone", "-q", str(remote), str(ci))
    cli("fetch", "origin", "-C", str(ci))
    run(cli, repo, "update", "B", "--set", "system_prompt=local")  # records v2 locally
    repo.git("push", "-q", "origin", "main")
    git(ci, "pull", "-q", "origin", "main")
    cli("apply", "--push", "origin", "-C", str(ci))  # CI records the same commit
    run(cli, repo, "fetch", "origin")  # same versions, same staging state: CI's taken
    assert (
        gitassist_refs(repo.path)[env_ref(B, "staging")]
        == gitassist_refs(ci)[env_ref(B, "staging")]
    )


def test_env_pointer_of_another_environment_is_refused_as_bad_ref(envrepo: Repo) -> None:
    from gitassist.errors import BadRef
    from gitassist.versions import read_latest

    staging = gitassist_refs(envrepo.path)[env_ref(A, "staging")]
    envrepo.git("update-ref", env_ref(A, "production"), staging)
    with pytest.raises(BadRef, match="environment 'staging', not production"):
        read_latest(envrepo.store(), A, "production")


def test_sigkill_during_release_is_all_or_nothing(
    make_repo: Callable[..., Repo], tmp_path: Path
) -> None:
    import random
    import shutil
    import signal
    import subprocess
    import sys
    import time

    from gitassist.apply import apply

    ids = [str(uuid.uuid4()) for _ in range(60)]
    files = {f"assistants/a{i:02}.yaml": doc_yaml(x, f"A{i}") for i, x in enumerate(ids)}
    repo = make_repo(
        {"gitassist.yaml": ENVS.replace("protected: true", "protected: false"), **files}
    )
    apply(repo.store())
    script = tmp_path / "release.py"
    script.write_text(
        "import sys\nfrom gitassist.store import Store\nfrom gitassist.promote import release\n"
        "release(Store(sys.argv[1]), 'staging', 'production')\n"
    )
    done = tmp_path / "done"
    shutil.copytree(repo.path, done)
    start = time.monotonic()
    subprocess.run([sys.executable, str(script), str(done)], check=True)
    duration = time.monotonic() - start

    def prod(path: Path) -> dict[str, str]:
        return {n: o for n, o in gitassist_refs(path).items() if n.endswith("/env/production")}

    assert len(prod(done)) == 60
    rng = random.Random(7)
    seen = set()
    for attempt in range(8):
        work = tmp_path / f"kill{attempt}"
        shutil.copytree(repo.path, work)
        proc = subprocess.Popen(
            [sys.executable, str(script), str(work)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.1, duration * 1.1))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        count = len(prod(work))
        assert count in (0, 60), f"partial release after kill #{attempt}: {count}"
        seen.add(count)
        subprocess.run([sys.executable, str(script), str(work)], check=True)
        assert len(prod(work)) == 60
        shutil.rmtree(work)
    print("outcomes", seen, "duration", round(duration, 2))


# --------------------------------------------------------------------------- property

OPS = st.one_of(
    st.tuples(st.just("apply"), st.sampled_from([A, B]), st.integers(1, 2)),
    st.tuples(st.just("set_latest"), st.sampled_from([A, B]), st.integers(1, 6)),
    st.tuples(st.just("promote"), st.sampled_from([A, B]), st.integers(1, 6)),
    st.tuples(st.just("release"), st.just(A), st.just(0)),
    st.tuples(st.just("push"), st.just(A), st.just(0)),
    st.tuples(st.just("forge"), st.sampled_from([A, B]), st.integers(1, 6)),
    st.tuples(st.just("fetch"), st.just(A), st.just(0)),
)


def _chain(store: Any, assistant_id: str, env: str | None) -> list[Any]:
    from gitassist.versions import latest_history

    return latest_history(store, assistant_id, environment=env)


def _forge(other: Path, assistant_id: str, version: int) -> None:
    """In another clone, move production with plain git to any version that exists."""
    from gitassist.store import Store
    from gitassist.version_write import make_pointer
    from gitassist.versions import read_latest, read_version

    git(other, "fetch", "-q", "origin", "+refs/assistants/*:refs/assistants/*")
    store = Store(other)
    record = read_version(store, assistant_id, version)
    if record is None:
        return
    previous = read_latest(store, assistant_id, "production")
    oid = make_pointer(
        store, assistant_id, previous=previous, version=version, max_version=version,
        tag=record.tag, commit=record.commit, path=record.path, blob=record.blob,
        deleted=False, reason="forged", ci={}, name="x", environment="production",
    )  # fmt: skip
    git(other, "push", "-q", "-f", "origin", f"{oid}:{env_ref(assistant_id, 'production')}")


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(OPS, min_size=1, max_size=9))
def test_property_environments_never_hold_what_their_source_never_held(
    make_repo: Callable[..., Repo], tmp_path_factory: pytest.TempPathFactory, ops: list[Any]
) -> None:
    """Random apply / set-latest / promote / release / push / forged push / fetch: production
    never holds a version staging never held, staging equals latest, and every pointer value
    ever seen stays in its ref's move history."""
    from gitassist import assistants, promote, remote
    from gitassist.apply import apply
    from gitassist.errors import GitassistError

    base = tmp_path_factory.mktemp("prop")
    repo = make_repo(
        {"gitassist.yaml": ENVS, "assistants/a.yaml": doc_yaml(A, "A", context=ctx(0))}
    )
    repo.commit({"assistants/b.yaml": doc_yaml(B, "B", context=ctx(0))})
    apply(repo.store())
    origin = base / "origin.git"
    git(base, "init", "-q", "--bare", "-b", "main", str(origin))
    repo.git("remote", "add", "origin", str(origin))
    repo.git("push", "-q", "origin", "main")
    remote.push_all(repo.store(), "origin")
    other = base / "other"
    git(base, "clone", "-q", str(origin), str(other))
    seen: dict[tuple[str, str], set[str]] = {}
    counter = 0
    os.environ["CI"] = "1"
    try:
        for op, assistant_id, n in ops:
            store = repo.store()
            try:
                if op == "apply":
                    for _ in range(n):
                        counter += 1
                        name = "A" if assistant_id == A else "B"
                        path = f"assistants/{name.lower()}.yaml"
                        repo.commit({path: doc_yaml(assistant_id, name, context=ctx(counter))})
                    apply(store)
                elif op == "set_latest":
                    assistants.set_latest(store, assistant_id, n)
                elif op == "promote":
                    promote.promote(store, assistant_id, "production", version=n, reason="p")
                elif op == "release":
                    promote.release(store, "staging", "production", reason="r")
                elif op == "push":
                    remote.push_all(store, "origin")
                elif op == "forge":
                    _forge(other, assistant_id, n)
                else:
                    remote.fetch(store, "origin")
            except GitassistError:
                pass  # refused or conflict: nothing moved (checked below)
            store = repo.store()
            for aid in (A, B):
                staging = {s.version for s in _chain(store, aid, "staging") if not s.deleted}
                production = _chain(store, aid, "production")
                assert {s.version for s in production if not s.deleted} <= staging
                latest = _chain(store, aid, None)[0]
                assert (_chain(store, aid, "staging")[0].version, latest.version) == (
                    latest.version,
                    latest.version,
                )
                for env in ("staging", "production"):
                    chain = {s.pointer for s in _chain(store, aid, env)}
                    seen.setdefault((aid, env), set()).update(chain)
                    # a move leaves the pointer's history only where fetch took the remote's
                    # pointer for the same state (docs/refs.md): then the reflog keeps it
                    left = seen[(aid, env)] - chain
                    assert left <= _reflog_values(repo, aid, env), f"a move of {env} was lost"
    finally:
        os.environ.pop("CI", None)


def _reflog_values(repo: Repo, assistant_id: str, env: str) -> set[str]:
    """Every value the env ref's reflog (in the common git directory) ever recorded."""
    log = repo.path / ".git" / "logs" / "refs" / "assistants" / assistant_id / "env" / env
    if not log.is_file():
        return set()
    return {part for line in log.read_text().splitlines() for part in line.split()[:2]}


def test_diff_between_two_environments(envrepo: Repo, cli: Any) -> None:
    run(cli, envrepo, "promote", "--all", "--to", "production", "--reason", "r", "--force")
    assert "0 assistant(s) differ" in run(cli, envrepo, "diff", "--env", "production",
                                          "--env", "staging").stdout  # fmt: skip
    run(cli, envrepo, "set-latest", "A", "2")
    args = ("diff", "--env", "production", "--env", "staging", "--exit-code")
    data = json.loads(run(cli, envrepo, *args, "--json", code=ExitCode.CHANGES).stdout)
    (row,) = data["assistants"]
    assert (row["from_version"], row["to_version"]) == (3, 2)
    assert any(f["path"] == "$.context.system_prompt" for f in row["fields"])
    run(cli, envrepo, "diff", "--env", "production", code=ExitCode.USAGE)
    run(cli, envrepo, "diff", "--env", "qa", "--env", "staging", code=ExitCode.NOT_FOUND)


def test_a_stale_release_loses_cleanly_to_a_concurrent_promote(envrepo: Repo) -> None:
    """Plan a release, let another writer move one production pointer, then execute the old
    plan: it fails with a conflict and moves nothing (one wins, nothing lost)."""
    from gitassist import promote
    from gitassist.errors import Conflict

    store = envrepo.store()
    plan = promote.plan_release(store, "staging", "production")
    assert len(plan.moves) == 2
    promote.promote(envrepo.store(), "B", "production", reason="hotfix", force=True)
    before = gitassist_refs(envrepo.path)
    with pytest.raises(Conflict, match="moved since the plan"):
        promote.execute(store, plan, reason="release", force=True)
    assert gitassist_refs(envrepo.path) == before
    done = promote.release(envrepo.store(), "staging", "production", reason="again", force=True)
    assert [m.name for m in done.moves] == ["A"]  # B's hotfix is kept, not overwritten


def test_concurrent_apply_and_release_both_land(envrepo: Repo, tmp_path: Path) -> None:
    """apply (latest + staging) and a release (production) in two processes at once: the
    write lock orders them, both succeed, and production holds a version staging held."""
    import subprocess
    import sys

    envrepo.commit({"assistants/a.yaml": doc_yaml(A, "A", context=ctx(4))})
    script = tmp_path / "both.py"
    script.write_text(
        "import sys\nfrom gitassist.store import Store\n"
        "from gitassist.apply import apply\nfrom gitassist.promote import release\n"
        "store = Store(sys.argv[1])\n"
        "if sys.argv[2] == 'apply':\n    apply(store)\n"
        "else:\n    release(store, 'staging', 'production', reason='r')\n"
    )
    env = {**os.environ, "CI": "1"}
    procs = [
        subprocess.Popen([sys.executable, str(script), str(envrepo.path), what], env=env)
        for what in ("apply", "release")
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    assert (held(envrepo, A, None), held(envrepo, A, "staging")) == (4, 4)
    assert held(envrepo, A, "production") in (3, 4)
    assert held(envrepo, B, "production") == 1
