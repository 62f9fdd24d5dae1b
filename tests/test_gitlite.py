"""gitassist/gitlite.py: HEAD, loose and packed refs read in pure Python agree with git."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gitassist import gitlite
from tests.conftest import git

if TYPE_CHECKING:
    from pathlib import Path

_OID = st.text("0123456789abcdef", min_size=40, max_size=40)
_PART = st.text("abcdef0123456789-_.", min_size=1, max_size=6).filter(
    lambda p: not p.startswith(".") and ".." not in p and not p.endswith(".")
)
_NAME = st.lists(_PART, min_size=1, max_size=3).map(lambda ps: "refs/assistants/" + "/".join(ps))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_NAME, st.tuples(_OID, st.one_of(st.none(), _OID)), max_size=12), _NAME)
def test_packed_refs_parse_as_git_writes_them(refs: dict[str, Any], probe: str) -> None:
    """Every ref, with or without a peeled line, and nothing else; a name that is a prefix
    of another is not confused with it."""
    lines = ["# pack-refs with: peeled fully-peeled sorted "]
    for name in sorted(refs):
        oid, peeled = refs[name]
        lines.append(f"{oid} {name}")
        if peeled is not None:
            lines.append(f"^{peeled}")
    data = ("\n".join(lines) + "\n").encode()
    for name, (oid, _) in refs.items():
        assert gitlite.packed_lookup(data, name.encode()) == oid
    expected = sorted((n, o) for n, (o, _) in refs.items() if n.startswith(probe + "/"))
    assert sorted(gitlite.packed_under(data, (probe + "/").encode())) == expected
    if probe not in refs:
        assert gitlite.packed_lookup(data, probe.encode()) is None


def _values(path: Path, prefix: str) -> dict[str, str]:
    out = git(path, "for-each-ref", "--format=%(refname) %(objectname)", prefix)
    return dict(line.split(" ") for line in out.splitlines())


def test_refs_and_head_agree_with_git(make_repo: Any, tmp_path: Path) -> None:
    repo = make_repo()
    head = git(repo.path, "rev-parse", "HEAD").strip()
    tree = git(repo.path, "rev-parse", "HEAD^{tree}").strip()
    for i in range(4):
        git(repo.path, "update-ref", f"refs/assistants/a/{i}", head)
    git(repo.path, "pack-refs", "--all")
    git(repo.path, "update-ref", "refs/assistants/a/1", tree)  # loose over packed
    git(repo.path, "update-ref", "refs/assistants/ab/x", head)  # a sibling prefix
    (repo.path / "sub" / "dir").mkdir(parents=True)
    gd = gitlite.discover(str(repo.path / "sub" / "dir"))
    assert gd is not None and gd.root == os.path.realpath(repo.path)
    assert gd.head() == head
    loose = dict(gd.loose_refs("refs/assistants/a") or [])
    packed = dict(gitlite.packed_under(gd.packed() or b"", b"refs/assistants/a/"))
    assert {**packed, **loose} == _values(repo.path, "refs/assistants/a/")
    assert gd.ref("refs/assistants/a/1") == tree
    assert gd.ref("refs/assistants/a/2") == head
    assert gd.ref("refs/assistants/a/9") is None
    git(repo.path, "checkout", "-q", "--detach")
    assert gd.head() == head
    (repo.path / ".git" / "refs" / "assistants" / "a" / "3").write_text("ref: refs/heads/x\n")
    assert gd.ref("refs/assistants/a/3") is False  # symbolic: libgit2 decides
    assert gd.loose_refs("refs/assistants/a") is None
    wt = tmp_path / "wt"
    git(repo.path, "worktree", "add", "-q", "-b", "side", str(wt))
    linked = gitlite.discover(str(wt))
    assert linked is not None and linked.common == gd.common and linked.gitdir != gd.gitdir
    assert linked.head() == head


def test_what_discovery_steps_aside_for(make_repo: Any, monkeypatch: Any) -> None:
    repo = make_repo()
    assert gitlite.discover(str(repo.path / ".git")) is None  # inside the git dir
    (repo.path / ".git" / "reftable").mkdir()
    assert gitlite.discover(str(repo.path)) is None
    (repo.path / ".git" / "reftable").rmdir()
    monkeypatch.setenv("GIT_COMMON_DIR", str(repo.path / ".git"))
    assert gitlite.discover(str(repo.path)) is None
