"""Sharing refs with real bare remotes: forged refs are quarantined and refused, pushes never
move or replace a remote's records, local writes and CI's apply do not fork the history."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import Repo, doc_yaml, git
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitassist.errors import ExitCode

if TYPE_CHECKING:
    from collections.abc import Callable

    from click.testing import Result

ASSISTANT = str(uuid.uuid4())
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
TAGGER = "Mallory <m@example.com> 1700000000 +0000"


def refs_of(path: Path) -> dict[str, str]:
    text = git(path, "for-each-ref", "--format=%(objectname) %(refname)")
    return {name: oid for oid, name in (line.split(" ", 1) for line in text.splitlines())}


def reflogs_of(path: Path) -> dict[str, str]:
    logs = Path(git(path, "rev-parse", "--git-common-dir"))
    if not logs.is_absolute():
        logs = path / logs
    logs = logs / "logs"
    return {str(p.relative_to(logs)): p.read_text() for p in sorted(logs.rglob("*")) if p.is_file()}


def result_refs(path: Path) -> dict[str, str]:
    return refs_of(path)


def gitassist_refs(path: Path) -> dict[str, str]:
    return {
        n: o
        for n, o in refs_of(path).items()
        if n.startswith(("refs/assistants/", "refs/gitassist/"))
    }


class World:
    """CI's repository (``ci``) that applied two versions of one assistant and pushed them to
    a bare remote; clones of that remote come from :meth:`clone`."""

    def __init__(self, make_repo: Callable[..., Repo], tmp_path: Path, cli: Any) -> None:
        self.tmp = tmp_path
        self.cli = cli
        self.ci = make_repo({"assistants/a.yaml": doc_yaml(ASSISTANT)})
        self.remote = tmp_path / "remote.git"
        git(tmp_path, "init", "-q", "--bare", "-b", "main", str(self.remote))
        self.ci.git("remote", "add", "origin", str(self.remote))
        self.ci.commit({"assistants/a.yaml": doc_yaml(ASSISTANT, context={"model_name": "openai"})})
        self.ci.git("push", "-q", "origin", "main")
        self.run("apply", "--push", "origin", repo=self.ci.path)

    def run(self, *args: str, repo: Path, code: int | None = 0, who: str | None = None) -> Result:
        """Run gitassist in ``repo``; ``who`` is the committer (CI's identity otherwise)."""
        import os

        saved = os.environ.get("GIT_COMMITTER_NAME")
        os.environ["GIT_COMMITTER_NAME"] = who or saved or ""
        try:
            result: Result = self.cli(*args, "-C", str(repo), code=code)
        finally:
            os.environ["GIT_COMMITTER_NAME"] = saved or ""
        return result

    def clone(self, name: str, *, with_refs: bool = True) -> Path:
        path = self.tmp / name
        git(self.tmp, "clone", "-q", str(self.remote), str(path))
        if with_refs:
            self.run("fetch", "origin", repo=path)
        return path

    def remote_refs(self) -> dict[str, str]:
        return gitassist_refs(self.remote)


@pytest.fixture
def world(make_repo, tmp_path, cli) -> World:
    return World(make_repo, tmp_path, cli)


# --------------------------------------------------------------------------- forging


def pointer_message(data: dict[str, Any] | None, summary: str = "gitassist: Bot latest") -> str:
    return summary + ("\n\n" + json.dumps(data) if data is not None else "")


def real_pointer(path: Path) -> tuple[str, dict[str, Any]]:
    oid = git(path, "rev-parse", f"refs/assistants/{ASSISTANT}/latest")
    body = git(path, "cat-file", "commit", oid)
    return oid, json.loads(body[body.index("{") :])


def commit_tree(path: Path, message: str, parent: str | None, tree: str | None = None) -> str:
    tree = tree or git(path, "rev-parse", f"{parent or 'HEAD'}^{{tree}}")
    return git(path, "commit-tree", tree, "-m", message, *(["-p", parent] if parent else []))


def make_tag(path: Path, target: str, data: dict[str, Any]) -> str:
    text = f"object {target}\ntype commit\ntag forged\ntagger {TAGGER}\n\nforged\n\n"
    text += json.dumps(data) + "\n"
    import subprocess

    return subprocess.run(
        ["git", "mktag"], cwd=path, input=text, capture_output=True, text=True, check=True
    ).stdout.strip()


def version_data(path: Path, number: int) -> dict[str, Any]:
    tag = git(path, "rev-parse", f"refs/assistants/{ASSISTANT}/versions/{number}")
    body = git(path, "cat-file", "tag", tag)
    data: dict[str, Any] = json.loads(body[body.index("{") :])
    return data


def forge_no_json(att: Path) -> str:
    parent, _ = real_pointer(att)
    new = commit_tree(att, pointer_message(None, "just a commit"), parent)
    git(att, "update-ref", f"refs/assistants/{ASSISTANT}/latest", new)
    return f"refs/assistants/{ASSISTANT}/latest"


def forge_version_abc(att: Path) -> str:
    parent, data = real_pointer(att)
    new = commit_tree(att, pointer_message({**data, "version": "abc"}), parent)
    git(att, "update-ref", f"refs/assistants/{ASSISTANT}/latest", new)
    return f"refs/assistants/{ASSISTANT}/latest"


def forge_not_a_uuid(att: Path) -> str:
    parent, _ = real_pointer(att)
    git(att, "update-ref", "refs/assistants/not-a-uuid/latest", parent)
    return "refs/assistants/not-a-uuid/latest"


def forge_version_without_document(att: Path) -> str:
    orphan = commit_tree(att, "nothing here", None, tree=EMPTY_TREE)
    data = {**version_data(att, 2), "version": 3, "commit": orphan}
    git(att, "update-ref", f"refs/assistants/{ASSISTANT}/versions/3", make_tag(att, orphan, data))
    return f"refs/assistants/{ASSISTANT}/versions/3"


def forge_far_version(att: Path) -> str:
    tag = git(att, "rev-parse", f"refs/assistants/{ASSISTANT}/versions/2")
    git(att, "update-ref", f"refs/assistants/{ASSISTANT}/versions/999", tag)
    return f"refs/assistants/{ASSISTANT}/versions/999"


FORGERIES = {
    "not-a-uuid": (forge_not_a_uuid, "not a gitassist ref name"),
    "pointer-without-json": (forge_no_json, "no gitassist JSON"),
    "version-abc": (forge_version_abc, "'version' is not a whole number"),
    "version-without-document": (forge_version_without_document, "does not hold the document"),
    "version-999-is-version-2": (forge_far_version, "records version 2, not 999"),
}


def push_forgery(world: World, forge: Callable[[Path], str]) -> str:
    att = world.clone("mallory")
    ref = forge(att)
    git(att, "push", "-q", "--force", "origin", "refs/assistants/*:refs/assistants/*")
    assert world.remote_refs()[ref] == refs_of(att)[ref]
    return ref


@pytest.mark.parametrize("by_glob", [False, True], ids=["by-name", "by-glob"])
@pytest.mark.parametrize("shape", list(FORGERIES))
def test_fetch_quarantines_and_refuses_a_forged_ref(world, shape, by_glob, monkeypatch):
    if by_glob:  # many refs to fetch: one glob refspec instead of one per ref
        monkeypatch.setattr("gitassist.remote.EXPLICIT_LIMIT", 0)
    victim = world.clone("victim")
    before = gitassist_refs(victim)
    forge, reason = FORGERIES[shape]
    ref = push_forgery(world, forge)

    result = world.run("fetch", "origin", "--json", repo=victim)
    data = json.loads(result.stdout)
    assert [r["ref"] for r in data["refused"]] == [ref]
    assert reason in data["refused"][0]["reason"]
    assert data["updated"] == []
    assert gitassist_refs(victim) == before  # nothing taken, quarantine gone
    assert not any("quarantine" in n for n in refs_of(victim))
    human = world.run("fetch", "origin", repo=victim)
    assert f"refused origin's {ref}" in human.output

    # every reader still works, and version 3 was not numbered in
    listed = json.loads(world.run("list", "--json", repo=victim).stdout)
    assert [a["version"] for a in listed if a["assistant_id"] == ASSISTANT] == [2]
    versions = json.loads(world.run("versions", ASSISTANT, "--json", repo=victim).stdout)
    assert [v["version"] for v in versions] == [2, 1]
    world.run("get", ASSISTANT, repo=victim)
    world.run("log", ASSISTANT, repo=victim)


@pytest.mark.parametrize("shape", list(FORGERIES))
def test_a_forged_ref_fetched_by_plain_git_is_a_one_line_error(world, shape):
    """Refs that bypassed the quarantine are validated where they are parsed: `list` skips
    them with a warning, the commands that need them exit 6 naming the ref."""
    victim = world.clone("victim")
    forge, reason = FORGERIES[shape]
    ref = push_forgery(world, forge)
    git(victim, "fetch", "-q", "origin", "+refs/assistants/*:refs/assistants/*")
    assert refs_of(victim)[ref] == world.remote_refs()[ref]

    listed = world.run("list", repo=victim)
    assert "Traceback" not in listed.output
    bad_latest = ref.endswith(f"{ASSISTANT}/latest")
    if bad_latest or shape == "not-a-uuid":
        assert f"warning: skipped {ref}" in listed.output or f"skipped {ref!r}" in listed.output
    failing = {
        "not-a-uuid": set(),
        "pointer-without-json": {"get", "versions", "log"},
        "version-abc": {"get", "versions", "log"},
        "version-without-document": {"get", "versions"},
        "version-999-is-version-2": {"get"},
    }[shape]
    target = {"version-without-document": "@3", "version-999-is-version-2": "@999"}
    for args in (
        ["get", ASSISTANT + target.get(shape, "")],
        ["versions", ASSISTANT],
        ["log", ASSISTANT],
    ):
        result = world.run(*args, repo=victim, code=None)
        if args[0] not in failing:
            assert result.exit_code == 0, (args, result.output)
            continue
        assert result.exit_code == ExitCode.REPOSITORY, (args, result.output)
        message = result.stderr.splitlines()[0].removeprefix("error: ")
        assert message.startswith(ref + ": ")
        assert reason in message


def test_versions_lists_stop_at_a_forged_version_3(world):
    victim = world.clone("victim")
    push_forgery(world, forge_version_without_document)
    git(victim, "fetch", "-q", "origin", "+refs/assistants/*:refs/assistants/*")
    result = world.run("versions", ASSISTANT, repo=victim, code=ExitCode.REPOSITORY)
    assert "versions/3" in result.stderr
    assert "does not hold the document" in result.stderr


# --------------------------------------------------------------------------- push rules


def test_push_never_replaces_the_remotes_records(world):
    """A developer who updated locally (never fetched CI's refs) pushes: refused, CI's refs
    survive; after fetch (no conflict) the push only adds and fast-forwards."""
    dev = world.clone("dev", with_refs=False)
    world.run("update", ASSISTANT, "--set", "system_prompt=Hi", repo=dev, who="Dev")
    ci_refs = world.remote_refs()
    assert (
        gitassist_refs(dev)[f"refs/assistants/{ASSISTANT}/versions/1"]
        != ci_refs[f"refs/assistants/{ASSISTANT}/versions/1"]
    )  # the same version, recorded twice

    local_refs, local_logs = refs_of(dev), reflogs_of(dev)
    result = world.run("push", "origin", "--json", repo=dev, code=ExitCode.CONFLICT)
    assert world.remote_refs() == ci_refs
    assert refs_of(dev) == local_refs and reflogs_of(dev) == local_logs
    error = json.loads(result.stderr)
    refused = {r["ref"] for r in error["problems"]}
    assert {f"refs/assistants/{ASSISTANT}/latest", "refs/gitassist/applied"} <= refused
    assert "fetch" in error["hint"]

    world.run("fetch", "origin", repo=dev, who="Dev")
    pushed = json.loads(world.run("push", "origin", "--json", repo=dev).stdout)["pushed"]
    assert f"refs/assistants/{ASSISTANT}/versions/3" in pushed
    after = world.remote_refs()
    for name in (
        f"refs/assistants/{ASSISTANT}/versions/1",
        f"refs/assistants/{ASSISTANT}/versions/2",
    ):
        assert after[name] == ci_refs[name]  # CI's records, untouched
    for name in (f"refs/assistants/{ASSISTANT}/latest", "refs/gitassist/applied"):
        # moved forward: CI's value is an ancestor of the new one
        git(world.remote, "merge-base", "--is-ancestor", ci_refs[name], after[name])
    # CI's next apply --push agrees with everything
    git(dev, "push", "-q", "origin", "main")
    world.ci.git("pull", "-q", "--ff-only", "origin", "main")
    world.run("apply", "--push", "origin", repo=world.ci.path)
    versions = json.loads(world.run("versions", ASSISTANT, "--json", repo=world.ci.path).stdout)
    assert [v["version"] for v in versions] == [3, 2, 1]


def test_push_refuses_to_move_latest_backwards_or_sideways(world):
    dev = world.clone("dev")
    other = world.clone("other")
    world.run("set-latest", ASSISTANT, "1", repo=other)
    world.run("push", "origin", repo=other)
    world.run("set-latest", ASSISTANT, "1", "--reason", "mine", repo=dev)  # another pointer
    before = world.remote_refs()
    result = world.run("push", "origin", "--json", repo=dev, code=ExitCode.CONFLICT)
    assert "lacks" in json.loads(result.stderr)["problems"][0]["reason"]  # never fetched
    git(dev, "fetch", "-q", "origin", "+refs/assistants/*:refs/elsewhere/*")  # objects only
    result = world.run("push", "origin", "--json", repo=dev, code=ExitCode.CONFLICT)
    assert "not a fast-forward" in json.loads(result.stderr)["problems"][0]["reason"]
    assert world.remote_refs() == before


# --------------------------------------------------------------------------- forks


def test_local_writes_then_ci_apply_do_not_fork(world):
    """create/update on main locally, branch pushed, CI applies the same commits: fetch takes
    CI's records as the same versions, no conflict; the local ones stay in the reflog."""
    dev = world.clone("dev")
    world.run("update", ASSISTANT, "--set", "system_prompt=one", repo=dev)
    world.run("update", ASSISTANT, "--set", "system_prompt=two", repo=dev)
    mine = gitassist_refs(dev)
    git(dev, "push", "-q", "origin", "main")
    world.ci.git("pull", "-q", "--ff-only", "origin", "main")
    world.run("apply", "--push", "origin", repo=world.ci.path)

    result = json.loads(world.run("fetch", "origin", "--json", repo=dev).stdout)
    v3 = f"refs/assistants/{ASSISTANT}/versions/3"
    assert v3 in result["merged"]
    assert gitassist_refs(dev) == world.remote_refs()
    log = reflogs_of(dev)[v3]
    assert f"{mine[v3]} {result_refs(dev)[v3]}" in log  # the local record's provenance is kept
    assert "same commit and content" in log
    world.run("fetch", "origin", repo=dev)  # and again: nothing to do
    world.run("push", "origin", repo=dev)
    assert gitassist_refs(dev) == world.remote_refs()


def test_a_real_divergence_is_a_conflict_and_changes_nothing(world):
    dev = world.clone("dev")
    world.run("update", ASSISTANT, "--set", "system_prompt=dev", repo=dev)  # v3 here, unpushed
    world.ci.commit({"assistants/a.yaml": doc_yaml(ASSISTANT, name="CI")})
    world.run("apply", "--push", "origin", repo=world.ci.path)  # v3 there: another commit
    refs, logs = refs_of(dev), reflogs_of(dev)

    result = world.run("fetch", "origin", "--json", repo=dev, code=ExitCode.CONFLICT)
    error = json.loads(result.stderr)
    assert f"refs/assistants/{ASSISTANT}/versions/3" in error["problems"][0]["ref"]
    assert "--force" in error["hint"]
    assert refs_of(dev) == refs and reflogs_of(dev) == logs
    world.run("fetch", "origin", "--force", repo=dev)
    assert gitassist_refs(dev) == world.remote_refs()


def test_failed_fetch_and_push_leave_refs_as_they_were(world):
    dev = world.clone("dev")
    world.run("update", ASSISTANT, "--set", "system_prompt=x", repo=dev)
    refs, logs = refs_of(dev), reflogs_of(dev)
    world.run("fetch", str(world.tmp / "missing.git"), repo=dev, code=ExitCode.REMOTE)
    world.run("push", str(world.tmp / "missing.git"), repo=dev, code=ExitCode.REMOTE)
    assert refs_of(dev) == refs and reflogs_of(dev) == logs


def test_apply_push_with_an_empty_plan_pushes_what_was_recorded_here(make_repo, tmp_path, cli):
    repo = make_repo({})
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    repo.git("remote", "add", "origin", str(remote))
    c = ("-C", str(repo.path))
    cli("create", "agent", "--name", "Bot", "--set", "model_name=echo", *c)
    cli("update", "bot", "--set", "system_prompt=hi", *c)
    repo.git("push", "-q", "origin", "main")
    assert gitassist_refs(remote) == {}

    data = json.loads(cli("apply", "--push", "origin", "--json", *c).stdout)
    assert data["versions"] == [] and data["pushed"] is True
    assert gitassist_refs(remote) == gitassist_refs(repo.path)
    assert len([n for n in gitassist_refs(remote) if "/versions/" in n]) == 2
    again = json.loads(cli("apply", "--push", "origin", "--json", *c).stdout)
    assert again["pushed"] is False


# --------------------------------------------------------------------------- properties


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
FIELDS = ("assistant_id", "version", "max_version", "previous", "tag", "commit", "path", "blob")
EXTRA = ("deleted", "ci", "reason", "author", "committed_at")


@given(st.text(max_size=80) | st.builds("refs/assistants/{}/{}".format, st.uuids(), st.text()))
def test_parse_ref_accepts_only_canonical_names(name):
    from gitassist.versions import env_name, env_ref, latest_ref, parse_ref, version_ref

    parsed = parse_ref(name)
    if parsed is not None and parsed[0] != "applied":
        kind, assistant_id, number = parsed
        if kind == "env":
            rebuilt = env_ref(assistant_id, env_name(name))
        elif kind == "latest":
            rebuilt = latest_ref(assistant_id)
        else:
            rebuilt = version_ref(assistant_id, number)
        assert rebuilt == name


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.dictionaries(st.sampled_from(FIELDS + EXTRA), JSON),
    real=st.sets(st.sampled_from(FIELDS)),
)
def test_any_record_json_is_read_or_refused_naming_the_ref(world_repo, data, real):
    """Whatever JSON a pointer or tag holds, reading it gives a record or BadRef, never
    another exception."""
    from gitassist.errors import BadRef
    from gitassist.versions import latest_from_pointer, record_from_tag

    store, good_pointer, good_tag = world_repo
    base = {**good_pointer, **{k: v for k, v in data.items() if k not in real}}
    repo = store.repo
    head = repo.head.peel()
    sig = store.signature()
    message = "gitassist: x\n\n" + json.dumps(base)
    pointer = str(repo.create_commit(None, sig, sig, message, head.tree.id, []))
    try:
        latest_from_pointer(store, pointer, "refs/assistants/x/latest", assistant_id=ASSISTANT)
    except BadRef as exc:
        assert exc.message.startswith("refs/assistants/x/latest: ")
    tag_data = {**good_tag, **{k: v for k, v in data.items() if k not in real}}
    tag = make_tag(store.root, str(head.id), tag_data)
    try:
        record_from_tag(store, tag, "refs/assistants/x/versions/1", number=1)
    except BadRef as exc:
        assert "\n" not in exc.message


@pytest.fixture
def world_repo(world):
    from gitassist.store import Store

    store = Store(world.ci.path)
    return store, real_pointer(world.ci.path)[1], version_data(world.ci.path, 2)


def test_apply_push_warns_about_refused_refs_and_carries_on(world):
    push_forgery(world, forge_not_a_uuid)
    world.ci.commit({"assistants/a.yaml": doc_yaml(ASSISTANT, name="Three")})
    result = world.run("apply", "--push", "origin", repo=world.ci.path)
    assert "warning: refused origin's refs/assistants/not-a-uuid/latest" in result.output
    assert f"refs/assistants/{ASSISTANT}/versions/3" in world.remote_refs()
    assert "refs/assistants/not-a-uuid/latest" not in gitassist_refs(world.ci.path)


def test_a_quarantine_left_by_a_killed_fetch_is_removed(world):
    victim = world.clone("victim")
    left = "refs/gitassist/quarantine/origin/assistants/x/latest"
    git(victim, "update-ref", left, git(victim, "rev-parse", "HEAD"))
    before = {n: o for n, o in gitassist_refs(victim).items() if n != left}
    world.run("fetch", "origin", repo=victim)
    assert gitassist_refs(victim) == before
    assert not (victim / ".git" / "refs" / "gitassist" / "quarantine").exists()


def test_push_refuses_to_send_a_ref_gitassist_did_not_write(world):
    dev = world.clone("dev")
    ref = forge_far_version(dev)
    before = world.remote_refs()
    result = world.run("push", "origin", "--json", repo=dev, code=ExitCode.CONFLICT)
    problems = json.loads(result.stderr)["problems"]
    assert [r["ref"] for r in problems] == [ref]
    assert "records version 2, not 999" in problems[0]["reason"]
    text = world.run("push", "origin", repo=dev, code=ExitCode.CONFLICT).stderr
    assert f"  {ref}: " in text  # the human report names each refused ref with its reason
    assert world.remote_refs() == before
