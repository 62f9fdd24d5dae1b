"""A hostile review of the warm read path (gitassist/cli/fast.py, gitassist/read_cache.py):
each attack compares what a warm ``gitassist`` prints (stdout and stderr bytes, exit code)
with what it prints once the read cache is deleted, after plain git, the work tree, the
environment or an upgrade moved something under it; and checks the work tree is left as it
was."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import GITASSIST, doc_yaml, git
from tests.test_read_cache import _both, _fast, _populated, _slow

Out = tuple[bytes, bytes, int]


def _run(
    args: list[str], cwd: Path, env: dict[str, str | None] | None = None, timeout: int = 120
) -> Out:
    full = dict(os.environ)
    for k, v in (env or {}).items():
        if v is None:
            full.pop(k, None)
        else:
            full[k] = v
    proc = subprocess.run(
        [str(GITASSIST), *args],
        cwd=cwd,
        capture_output=True,
        env=full,
        check=False,
        timeout=timeout,
    )
    return proc.stdout, proc.stderr, proc.returncode


@pytest.mark.parametrize(
    "env",
    [{"XDG_CACHE_HOME": "cache"}, {"XDG_CACHE_HOME": None, "HOME": "."}],
    ids=["relative-xdg", "relative-home"],
)
def test_help_with_a_relative_cache_home_writes_nothing_here(
    make_repo: Any, env: dict[str, str | None]
) -> None:
    """`gitassist --help` keeps its text under the user's cache directory; a relative
    XDG_CACHE_HOME (invalid, says the XDG spec) or HOME must not put it in the work tree."""
    repo = make_repo()
    where = Path(repo.path)
    first = _run(["--help"], where, env)
    assert first[2] == 0 and b"Usage: gitassist" in first[0]
    assert _run(["--help"], where, env) == first
    assert git(where, "status", "--porcelain", "--ignored") == ""


def _packed_refs_in_the_future(repo: Any) -> tuple[Path, os.stat_result]:
    git(repo.path, "pack-refs", "--all")
    packed = Path(repo.path) / ".git" / "packed-refs"
    st = packed.stat()
    ahead = time.time_ns() + 3600 * 10**9
    os.utime(packed, ns=(ahead, ahead))
    return packed, st


@pytest.mark.parametrize("read", [["get", "{id}", "--json"], ["list"], ["versions", "Bot 0"]])
def test_packed_refs_not_older_than_the_entry_is_not_trusted(
    make_repo: Any, cli: Any, capsys: Any, read: list[str]
) -> None:
    """packed-refs counts as unchanged while its stat data is (inode, size, mtime, ctime);
    git replaces it by a rename, and a freed inode is reused, so two rewrites of the same
    size within one timestamp tick (a coarse-grained file system) can keep the stamp. An
    entry recorded while packed-refs is not older than the entry itself (here: its mtime
    set ahead, the same tick as far as the comparison goes) is therefore not kept; once
    packed-refs is older, the next read records again."""
    repo, ids = _populated(make_repo)
    args = [a.replace("{id}", ids[0]) for a in read]
    packed, st = _packed_refs_in_the_future(repo)
    out, _, _ = _slow(cli, repo, args)
    assert _fast(capsys, repo, args) is None, "an entry was kept on a racy packed-refs stamp"
    os.utime(packed, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert _both(cli, capsys, repo, args) == out


def test_an_upgraded_library_makes_every_entry_a_miss(
    make_repo: Any, cli: Any, capsys: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`get` prints a YAML body the installed ruamel.yaml rendered: a library installed,
    upgraded or removed in a site-packages folder on sys.path (its dist-info renamed)
    makes every entry a miss, as a changed gitassist file does."""
    site = tmp_path / "lib" / "site-packages"
    (site / "ruamel.yaml-0.18.0.dist-info").mkdir(parents=True)
    monkeypatch.setattr(sys, "path", [*sys.path, str(site)])
    repo, ids = _populated(make_repo)
    _both(cli, capsys, repo, ["get", ids[0]])
    (site / "ruamel.yaml-0.18.0.dist-info").rename(site / "ruamel.yaml-0.19.0.dist-info")
    assert _fast(capsys, repo, ["get", ids[0]]) is None
    _both(cli, capsys, repo, ["get", ids[0]])
    shutil.rmtree(site)
    assert _fast(capsys, repo, ["get", ids[0]]) is None


@pytest.mark.parametrize("name", ["langgraph.json", "gitassist.yaml"])
def test_a_fifo_for_a_project_file_is_refused_not_waited_on(make_repo: Any, name: str) -> None:
    """The ordinary path refuses a project file that is not a regular file (exit 3); the
    warm lookup and the recorder (which read it first, in pure Python) must not block in
    open() on a FIFO put in its place."""
    repo, ids = _populated(make_repo)
    where = Path(repo.path)
    reads = [["list"], ["get", "Bot 1"], ["get", ids[0], "--json"]]
    for args in reads:
        _run(args, where)
    (where / name).unlink(missing_ok=True)
    os.mkfifo(where / name)
    for args in reads:
        warm = _run(args, where, timeout=30)
        shutil.rmtree(where / ".git" / "gitassist" / "cache" / "read-v1", ignore_errors=True)
        cold = _run(args, where, timeout=30)
        assert warm == cold, args
        if args[1:2] != [ids[0]]:  # by id, a recorded version reads no project file
            assert cold[2] == 3 and b"not a regular file" in cold[1], cold


def test_a_ref_moved_and_moved_back_during_the_read_is_not_recorded(
    make_repo: Any, cli: Any, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The recorder reads the dependencies before and after the ordinary read; a pointer
    moved to version 1 and back to 2 while the read ran (A-B-A: the same value at both
    ends) must not leave an entry holding what the read saw in between."""
    import gitassist.resolve

    repo, ids = _populated(make_repo)
    ref = f"refs/assistants/{ids[0]}/latest"
    now = git(repo.path, "rev-parse", ref)
    git(repo.path, "update-ref", ref, git(repo.path, "rev-parse", f"{ref}^"))  # to 2
    two = git(repo.path, "rev-parse", ref)
    git(repo.path, "update-ref", ref, now)
    git(repo.path, "update-ref", ref, two)
    args = ["get", ids[0], "--json"]
    settled, _, _ = _slow(cli, repo, args)
    shutil.rmtree(Path(repo.path) / ".git" / "gitassist" / "cache")
    real = gitassist.resolve.resolve

    def moving(*a: Any, **k: Any) -> Any:
        git(repo.path, "update-ref", ref, now)
        try:
            return real(*a, **k)
        finally:
            git(repo.path, "update-ref", ref, two)

    monkeypatch.setattr(gitassist.resolve, "resolve", moving)
    seen, _, _ = _slow(cli, repo, args)
    assert seen != settled  # the read saw the pointer in between
    monkeypatch.setattr(gitassist.resolve, "resolve", real)
    assert _fast(capsys, repo, args) is None, "an entry recorded what the read saw mid-move"
    assert _both(cli, capsys, repo, args) == settled


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["list"], ["list", "--json"], ["show", "Bot 1"]])
def test_a_failed_write_of_the_answer_is_reported_as_the_full_command_does(
    make_repo: Any, args: list[str]
) -> None:
    """stdout on a full disk: the warm path reports the failed write exactly as the full
    command does (one line, exit 74: not a bug, no crash log), never with a Python traceback
    on stderr."""
    import re

    repo, _ = _populated(make_repo)
    where = Path(repo.path)

    def to_full() -> tuple[str, int]:
        with open("/dev/full", "wb") as full:
            proc = subprocess.run(
                [str(GITASSIST), *args],
                cwd=where,
                stdout=full,
                capture_output=False,
                stderr=subprocess.PIPE,
                check=False,
                timeout=120,
            )
        return re.sub(r"crash-[0-9-]+\.log", "crash.log", proc.stderr.decode()), proc.returncode

    _run(args, where)
    assert _run(args, where)[2] == 0
    warm = to_full()
    shutil.rmtree(where / ".git" / "gitassist" / "cache" / "read-v1")
    cold = to_full()
    assert warm == cold
    assert "Traceback" not in warm[0]
    assert warm[1] == 74, warm  # docs/exit-codes.md IO: the machine failed the write, no bug
    assert "cannot write: No space left on device" in warm[0] and "crash" not in warm[0]


def _warm_equals_cold(repo: Any, args: list[str], env: Any = None) -> None:
    where = Path(repo.path)
    status = git(where, "status", "--porcelain", "--ignored")
    warm = _run(args, where, env)
    shutil.rmtree(where / ".git" / "gitassist" / "cache" / "read-v1", ignore_errors=True)
    cold = _run(args, where, env)
    assert warm == cold, args
    assert cold[2] != 70, cold
    assert git(where, "status", "--porcelain", "--ignored") == status


def test_plain_git_moving_things_under_the_warm_path(make_repo: Any, tmp_path: Path) -> None:
    """Each change plain git (or an editor) makes, then a warm read: the same bytes, stream
    and exit code as with no cache, and the work tree left as it was."""
    import json
    import uuid

    repo, ids = _populated(make_repo)
    ref = f"refs/assistants/{ids[0]}/latest"
    back = git(repo.path, "rev-parse", f"{ref}^")
    inc = tmp_path / "inc.cfg"
    inc.write_text("")
    graphs = {"agent": "./graph.py:graph", "loose": "./graph.py:graph"}
    changes = [
        lambda: git(repo.path, "update-ref", ref, back),
        lambda: git(repo.path, "pack-refs", "--all"),
        lambda: git(repo.path, "checkout", "-q", "-B", "other"),
        lambda: repo.commit({"assistants/loose.yaml": doc_yaml(str(uuid.uuid4()), name="Bot 1")}),
        lambda: git(repo.path, "reset", "-q", "--hard", "HEAD~1"),
        lambda: repo.write(
            {"langgraph.json": json.dumps({"dependencies": ["."], "graphs": graphs})}
        ),
        lambda: repo.write({"gitassist.yaml": "assistants_dir: other\n"}),
        lambda: git(repo.path, "config", "include.path", str(inc)),
        lambda: inc.write_text("[core]\n\tbare = true\n"),
    ]
    reads = [["get", "loose"], ["list"], ["versions", ids[0]]]
    for args in reads:
        _run(args, Path(repo.path))
    for change in changes:
        change()
        for args in reads:
            _warm_equals_cold(repo, args)
            _run(args, Path(repo.path))  # record again for the next change


def _pty_run(args: list[str], cwd: Path) -> bytes:
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.chdir(cwd)
        os.execv(str(GITASSIST), [str(GITASSIST), *args])
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.waitpid(pid, 0)
    os.close(fd)
    return b"".join(chunks)


def test_control_characters_on_a_terminal_and_in_a_pipe(make_repo: Any) -> None:
    """Names, metadata and descriptions holding escape sequences, BEL, CR, C1 and bidi
    characters print the same warm and cold, on a terminal (a pty) and into a pipe."""
    repo = make_repo()
    aid = repo.client().assistants.create(
        "agent",
        context={"model_name": "echo"},
        name="ev\x1b[31mil\x07\r\u202e",
        metadata={"k": "\x1b]0;x\x07"},
        description="d\x1b[2J\x9b1m",
    )["assistant_id"]
    where = Path(repo.path)
    for args in [["get", aid], ["show", aid], ["list"], ["versions", aid]]:
        _run(args, where)
        warm = _pty_run(args, where), _run(args, where)
        shutil.rmtree(where / ".git" / "gitassist" / "cache" / "read-v1")
        cold = _pty_run(args, where)
        shutil.rmtree(where / ".git" / "gitassist" / "cache" / "read-v1")
        assert warm == (cold, _run(args, where)), args


def test_list_after_the_work_trees_assistants_folder_changes(make_repo: Any) -> None:
    """The ids at a tree are kept by tree id; the work tree's gitassist.yaml naming another
    assistants folder must not reuse the ids found under the old one (it crashed, exit 70)."""
    import uuid

    repo, _ = _populated(make_repo)
    where = Path(repo.path)
    assert _run(["list"], where)[2] == 0
    other = str(uuid.uuid4())
    repo.commit({"team/solo.yaml": doc_yaml(other, name="Solo")}, "another folder")
    assert _run(["list"], where)[2] == 0
    repo.write({"gitassist.yaml": "assistants_dir: team\n"})
    out, err, code = _run(["list", "--json"], where)
    assert code == 0, err
    unrecorded = {a["assistant_id"] for a in __import__("json").loads(out)}
    assert other in unrecorded
    _warm_equals_cold(repo, ["list"])
