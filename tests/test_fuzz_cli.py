"""Fuzz the CLI through ``gitassist.cli.main.main()`` in-process: random argument vectors from
the real command tree, random refs planted under refs/assistants/ and refs/gitassist/, and odd
document file names. Every command ends in a documented exit code (never 70, never a
traceback), and a command that fails leaves refs, reflogs, index entries and work-tree bytes
as they were. Examples: ``GITASSIST_FUZZ_EXAMPLES`` (default 200, 25 when ``CI`` is set)."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from typing import TYPE_CHECKING, Any

import pygit2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import doc_yaml
from tests.strategies import (
    CliOutcome,
    RefContent,
    assert_not_a_bug,
    cli_argv,
    file_names,
    fuzz_settings,
    invoke_main,
    message_of,
    ref_contents,
    ref_names,
    repo_state,
    state_diff,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.conftest import Repo

A = "00000000-0000-4000-8000-0000000000a1"
B = "00000000-0000-4000-8000-0000000000b2"
C = "00000000-0000-4000-8000-0000000000c3"
SIG = "Mallory <m@example.com> 1700000000 +0000"


def git(path: Path, *args: str, input: str | None = None, check: bool = True) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=path, capture_output=True, text=True, input=input, check=False
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"git {args} failed: {proc.stderr}")
    return proc.stdout.strip()


@pytest.fixture
def template(make_repo: Callable[..., Repo]) -> Repo:
    """Bot (A) at versions 1 and 2, Other (B) at version 1, all applied."""
    repo = make_repo(
        {
            "assistants/bot.yaml": doc_yaml(A, name="Bot"),
            "assistants/other.yaml": doc_yaml(B, name="Other"),
        }
    )
    assert invoke_main("apply", "-C", str(repo.path)).code == 0
    repo.commit({"assistants/bot.yaml": doc_yaml(A, name="Bot", context={"model_name": "openai"})})
    assert invoke_main("apply", "-C", str(repo.path)).code == 0
    return repo


class Workspace:
    """A fresh copy of the template at one fixed path for each example."""

    def __init__(self, template: Path, where: Path) -> None:
        self.template = template
        self.path = where

    def fresh(self) -> Path:
        if self.path.exists():
            shutil.rmtree(self.path)
        shutil.copytree(self.template, self.path, symlinks=True)
        return self.path


def run_checked(path: Path, *argv: str) -> CliOutcome:
    """Run one command; never a bug; a failure changes nothing."""
    before = repo_state(path)
    outcome = invoke_main(*argv)
    assert_not_a_bug(outcome)
    if outcome.code not in (0, 1):
        after = repo_state(path)
        assert after == before, f"{outcome.explain()}\nchanged: {state_diff(before, after)}"
    return outcome


# --------------------------------------------------------------------------- CLI arguments


def test_fuzz_cli_arguments(
    template: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    space = Workspace(template.path, tmp_path / "work")
    repo = str(space.path)
    monkeypatch.chdir(tmp_path)

    @fuzz_settings()
    @given(argv=cli_argv(repo))
    def check(argv: list[str]) -> None:
        path = space.fresh()
        monkeypatch.chdir(path)
        run_checked(path, *argv)

    check()


# --------------------------------------------------------------------------- refs


READS = (
    ("list",),
    ("list", "--json"),
    ("get", "Bot"),
    ("get", "Bot@1"),
    ("get", "Bot@3"),
    ("get", "{id}"),
    ("get", "{id}@2"),
    ("versions", "Bot"),
    ("versions", "{id}", "--json"),
    ("log", "Bot"),
    ("log", "{id}"),
    ("show", "Bot@2"),
    ("show", "{id}"),
    ("plan",),
    ("plan", "--json"),
    ("validate",),
    ("diff", "HEAD~1", "HEAD"),
    ("versions", "diff", "Bot", "1", "2"),
)
WRITES = (
    ("update", "Bot", "--set", "model_name=anthropic"),
    ("update", "{id}", "--set", "model_name=anthropic"),
    ("set-latest", "Bot", "1"),
    ("set-latest", "{id}", "1"),
    ("delete", "Other"),
    ("create", "agent", "--name", "New", "--set", "model_name=echo"),
    ("apply",),
)


def _object_id(path: Path, target: str) -> str | None:
    names = {
        "{latest}": f"refs/assistants/{A}/latest",
        "{v1}": f"refs/assistants/{A}/versions/1",
        "{v2}": f"refs/assistants/{A}/versions/2",
        "{applied}": "refs/gitassist/applied",
    }
    out = git(path, "rev-parse", "--verify", "-q", names.get(target, target), check=False)
    return out or None


def plant(path: Path, name: str, content: RefContent) -> bool:
    """Write the object and point ``name`` at it with git plumbing; False when git refuses
    the name (a D/F conflict with an existing ref, say)."""
    repo = pygit2.Repository(str(path))
    head = str(repo.head.target)
    tree = str(repo.revparse_single("HEAD^{tree}").id)
    message = message_of(content)
    if content.kind == "existing":
        oid = _object_id(path, content.target) or head
    elif content.kind == "blob":
        oid = str(repo.create_blob(message.encode()))
    elif content.kind == "tree":
        oid = tree
    elif content.kind == "commit":
        parent = f"parent {head}\n" if content.with_parent else ""
        raw = f"tree {tree}\n{parent}author {SIG}\ncommitter {SIG}\n\n{message}"
        oid = str(repo.odb.write(pygit2.enums.ObjectType.COMMIT, raw.encode()))
    else:
        target = _object_id(path, content.target) or head
        actual = repo[target].type_str if content.tag_type == "auto" else content.tag_type
        raw = f"object {target}\ntype {actual}\ntag forged\ntagger {SIG}\n\n{message}"
        oid = str(repo.odb.write(pygit2.enums.ObjectType.TAG, raw.encode()))
    done = subprocess.run(
        ["git", "update-ref", name, oid], cwd=path, capture_output=True, check=False
    )
    return done.returncode == 0


def _templates(path: Path) -> tuple[dict[str, Any], ...]:
    found = []
    for ref in (
        f"refs/assistants/{A}/latest",
        f"refs/assistants/{A}/versions/2",
        "refs/gitassist/applied",
    ):
        body = git(path, "cat-file", "-p", ref)
        found.append(json.loads(body[body.index("\n{") :]))
    return tuple(found)


def _ids(name: str) -> str:
    parts = name.split("/")
    return parts[2] if name.startswith("refs/assistants/") and len(parts) > 2 else A


def test_fuzz_planted_refs(template: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    space = Workspace(template.path, tmp_path / "work")
    monkeypatch.chdir(tmp_path)
    templates = _templates(template.path)
    planted = st.lists(
        st.tuples(ref_names((A, B)), ref_contents(templates)), min_size=1, max_size=3
    )
    commands = st.lists(st.sampled_from(READS + WRITES), min_size=1, max_size=3)

    @fuzz_settings()
    @given(refs=planted, commands=commands)
    def check(refs: list[tuple[str, RefContent]], commands: list[tuple[str, ...]]) -> None:
        path = space.fresh()
        names = [name for name, content in refs if plant(path, name, content)]
        ident = _ids(names[0]) if names else A
        for words in commands:
            argv = [w.replace("{id}", ident) for w in words]
            run_checked(path, *argv, "-C", str(path))

    check()


# --------------------------------------------------------------------------- file names


@st.composite
def _documents(draw: st.DrawFn) -> list[tuple[str, str]]:
    names = draw(st.lists(file_names(), min_size=1, max_size=2, unique_by=str.lower))
    return [(name, str(uuid.UUID(int=draw(st.integers(1, 2**64))))) for name in names]


def test_fuzz_document_file_names(
    template: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    space = Workspace(template.path, tmp_path / "work")
    monkeypatch.chdir(tmp_path)

    @fuzz_settings()
    @given(
        docs=_documents(),
        commit=st.booleans(),
        hostile_name=st.sampled_from([None, *FN]),
        data=st.data(),
    )
    def check(
        docs: list[tuple[str, str]], commit: bool, hostile_name: str | None, data: st.DataObject
    ) -> None:
        path = space.fresh()
        for i, (name, ident) in enumerate(docs):
            target = path / "assistants" / name
            target.write_text(doc_yaml(ident, name=f"Doc {i}"), encoding="utf-8")
        if commit:
            git(path, "add", "-A")
            git(path, "commit", "-q", "-m", "odd names")
        repo = ("-C", str(path))
        name, ident = docs[0]
        stem = name.split(".")[0] or name
        create = ("--set", "model_name=echo")
        sequence = [
            ("apply", *repo),
            ("list", "--json", *repo),
            ("get", stem, *repo),
            ("update", ident, "--set", "model_name=anthropic", *repo),
        ]
        # one more command per example, drawn: the rest of the lifecycle and the other readers
        sequence.append(
            data.draw(
                st.sampled_from(
                    (
                        ("validate", *repo),
                        ("validate", f"assistants/{name}", *repo),
                        ("plan", "--json", *repo),
                        ("versions", ident, *repo),
                        ("get", f"{ident}@1", "--json", *repo),
                        ("show", ident, *repo),
                        ("log", ident, *repo),
                        ("update", "Bot", "--set", "model_name=anthropic", *repo),
                        ("delete", ident, *repo),
                        ("create", "agent", "--name", hostile_name or stem, *create, *repo),
                    )
                )
            )
        )
        for argv in sequence:
            run_checked(path, *argv)

    check()


FN = ("a\tb", "a\nb", "x" * 300, "é" * 200, "-rf", "--help", "..", "../up", "a/b", "\u2028", "")
"""Assistant names for ``create --name`` (its file name comes from the name)."""


# --------------------------------------------------------------------------- what the fuzz found


def test_an_empty_directory_left_where_a_ref_goes_is_removed_as_git_does(template: Repo) -> None:
    """A refused `git update-ref refs/assistants/A/latest/x` leaves the directory
    refs/assistants/A/latest/ behind (latest itself is packed): update wrote version 3, then
    crashed renaming its lock onto that directory (exit 70, half the refs written)."""
    path = template.path
    done = subprocess.run(
        ["git", "update-ref", f"refs/assistants/{A}/latest/x", "HEAD"], cwd=path, check=False
    )
    assert done.returncode != 0 and (path / f".git/refs/assistants/{A}/latest").is_dir()
    run_checked(path, "update", "Bot", "--set", "model_name=anthropic", "-C", str(path))
    got = json.loads(invoke_main("get", "Bot", "--json", "-C", str(path)).stdout)
    assert (got["version"], got["context"]["model_name"]) == (3, "anthropic")


def test_other_refs_under_a_ref_to_write_are_a_bad_ref(
    template: Repo,
) -> None:
    path = template.path
    store = path / f".git/refs/assistants/{A}/latest"
    store.mkdir(parents=True)
    (store / "x").write_text(git(path, "rev-parse", "HEAD") + "\n")
    # (git never makes this layout; the branch commit is published before the refs are
    # written, so here only the exit code and the message are promised)
    outcome = invoke_main("update", "Bot", "--set", "model_name=anthropic", "-C", str(path))
    assert_not_a_bug(outcome)
    assert outcome.code == 6
    assert f"refs/assistants/{A}/latest: cannot write it" in outcome.stderr


def test_a_forged_version_1_stops_update_before_it_writes(template: Repo) -> None:
    """update committed, recorded version 3, then read version 1 for the result's date and
    exited 6 with the branch, index and refs already moved."""
    path = template.path
    git(path, "update-ref", f"refs/assistants/{A}/versions/1", "HEAD")
    outcome = run_checked(path, "update", "Bot", "--set", "model_name=anthropic", "-C", str(path))
    assert outcome.code == 6
    assert f"refs/assistants/{A}/versions/1: " in outcome.stderr.splitlines()[0]


@pytest.mark.parametrize("name", ["x" * 300, "graph.py/sub"])
def test_init_of_a_directory_that_cannot_be_created_is_exit_6(
    template: Repo, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(template.path)
    outcome = run_checked(template.path, "init", name)
    assert outcome.code == 6
    assert outcome.stderr.startswith("error: cannot create the directory ")


def test_a_document_name_near_255_bytes_can_be_updated(template: Repo) -> None:
    """Its temp file `.NAME.gitassist-tmp` was too long a name: update exited 70."""
    path = template.path
    name = "x" * 245 + ".yaml"
    (path / "assistants" / name).write_text(doc_yaml(C, name="Long"), encoding="utf-8")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "long name")
    run_checked(path, "apply", "-C", str(path))
    run_checked(path, "update", C, "--set", "model_name=anthropic", "-C", str(path))
    assert "anthropic" in (path / "assistants" / name).read_text(encoding="utf-8")
    assert not [p for p in (path / "assistants").iterdir() if p.name.endswith("-tmp")]


@pytest.mark.parametrize("thread_id", [" ", "not-a-uuid", "١"])
def test_threads_create_with_an_id_that_is_not_a_uuid_is_a_usage_error(
    template: Repo, thread_id: str
) -> None:
    path = template.path
    outcome = run_checked(path, "threads", "create", "--id", thread_id, "-C", str(path))
    assert outcome.code == 2
    assert outcome.stderr.splitlines()[0] == f"error: thread id {thread_id!r} is not a UUID"
