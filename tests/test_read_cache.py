"""The warm read path (gitassist/cli/fast.py, gitassist/read_cache.py): get, show, versions
and list answered from the read cache print byte for byte what the ordinary path prints, go
back to the ordinary path whenever anything they read changed or cannot be read, and import
neither pygit2 nor pydantic nor a YAML library nor click. No test here measures time."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import GITASSIST, doc_yaml, git

HEAVY = ("pygit2", "pydantic", "pydantic_core", "yaml", "ruamel", "jsonschema", "click")


def _populated(make_repo: Any) -> tuple[Any, list[str]]:
    """Three recorded assistants (one with two versions, rolled back) and one unrecorded."""
    repo = make_repo()
    client = repo.client()
    ids = [
        client.assistants.create(
            "agent",
            context={"model_name": "echo"},
            name=f"Bot {i}",
            metadata={"team": "a", "n": i},
            description="plays \x1b[31mred\x1b[0m" if i == 1 else None,
        )["assistant_id"]
        for i in range(3)
    ]
    client.assistants.update(ids[0], context={"model_name": "openai"})
    client.assistants.set_latest(ids[0], 1)
    repo.commit({"assistants/loose.yaml": doc_yaml(str(uuid.uuid4()), name="Loose")}, "new")
    return repo, ids


def _cache_dir(repo: Any) -> Path:
    return Path(repo.path) / ".git" / "gitassist" / "cache" / "read-v1"


def _commands(ids: list[str]) -> list[list[str]]:
    one = ids[0]
    return [
        ["get", one],
        ["get", one, "--json"],
        ["get", f"{one}@2"],
        ["get", "Bot 1"],
        ["get", "loose", "--json"],
        ["get", "agent"],
        ["show", one],
        ["show", f"{one}@latest", "--json"],
        ["show", "agent"],
        ["versions", one],
        ["versions", one, "--json", "--limit", "1"],
        ["versions", "loose"],
        ["list"],
        ["list", "--json", "--limit=2", "--sort-by", "created_at"],
        ["search", "--name", "bot", "--sort-order", "desc"],
    ]


def _slow(cli: Any, repo: Any, args: list[str], code: int | None = 0) -> tuple[str, str, int]:
    result = cli("-C", str(repo.path), *args, code=code)
    return result.stdout, result.stderr, result.exit_code


def _fast(capsys: pytest.CaptureFixture[str], repo: Any, args: list[str]) -> tuple[str, str] | None:
    from gitassist.cli import fast

    capsys.readouterr()
    answered = fast.run(["-C", str(repo.path), *args])
    out, err = capsys.readouterr()
    if not answered:
        assert (out, err) == ("", ""), "a miss printed something"
        return None
    return out, err


def _both(cli: Any, capsys: pytest.CaptureFixture[str], repo: Any, args: list[str]) -> str:
    """The ordinary output of ``args``; the warm path then prints exactly the same."""
    out, err, _ = _slow(cli, repo, args)
    warm = _fast(capsys, repo, args)
    assert warm is not None, f"no cache hit for {args}"
    assert warm == (out, err), args
    return out


def test_every_read_prints_the_same_warm(make_repo: Any, cli: Any, capsys: Any) -> None:
    repo, ids = _populated(make_repo)
    for args in _commands(ids):
        _both(cli, capsys, repo, args)
    assert len(list(_cache_dir(repo).glob("*.json"))) == len(_commands(ids))


def test_a_write_from_another_process_is_seen(
    make_repo: Any, cli: Any, capsys: Any, run_cli: Any
) -> None:
    repo, ids = _populated(make_repo)
    reads = [["get", ids[1], "--json"], ["get", "Bot 1"], ["versions", ids[1]], ["list"]]
    before = {tuple(a): _both(cli, capsys, repo, a) for a in reads}
    done = run_cli("-C", str(repo.path), "update", ids[1], "--set", "model_name=anthropic")
    assert done.returncode == 0, done.stderr
    for args in reads:
        assert _fast(capsys, repo, args) is None, f"stale hit for {args}"
        assert _both(cli, capsys, repo, args) != before[tuple(args)]
    # set-latest moves only the pointer: a read of that assistant misses again
    assert run_cli("-C", str(repo.path), "set-latest", ids[1], "1").returncode == 0
    assert _fast(capsys, repo, ["get", ids[1], "--json"]) is None
    assert '"version": 1' in _both(cli, capsys, repo, ["get", ids[1], "--json"])


def test_a_commit_changes_what_a_name_means(make_repo: Any, cli: Any, capsys: Any) -> None:
    repo, ids = _populated(make_repo)
    _both(cli, capsys, repo, ["get", "loose"])
    _both(cli, capsys, repo, ["get", ids[2]])
    other = str(uuid.uuid4())
    repo.commit({"assistants/loose.yaml": doc_yaml(other, name="Loose 2")}, "replace")
    assert _fast(capsys, repo, ["get", "loose"]) is None
    assert other in _both(cli, capsys, repo, ["get", "loose"])
    assert _fast(capsys, repo, ["get", ids[2]]) is not None  # by id: HEAD is not read


def test_packed_refs_and_worktrees(make_repo: Any, cli: Any, capsys: Any, tmp_path: Path) -> None:
    repo, ids = _populated(make_repo)
    for args in (["get", ids[0]], ["versions", ids[0]], ["list", "--json"]):
        loose = _both(cli, capsys, repo, args)
        git(repo.path, "pack-refs", "--all")
        warm = _fast(capsys, repo, args)
        if args[0] == "list":  # all refs: packed-refs by its stat data, which pack-refs changed
            assert warm is None
        else:  # one assistant's refs by value: the same values, the entry still holds
            assert warm == (loose, "")
        assert _both(cli, capsys, repo, args) == loose
    assert not (Path(repo.path) / ".git" / "refs" / "assistants").exists() or not any(
        p.is_file() for p in (Path(repo.path) / ".git" / "refs" / "assistants").rglob("*")
    )
    worktree = tmp_path / "wt"
    git(repo.path, "worktree", "add", "-q", "--detach", str(worktree), "HEAD~1")
    wt = type(repo)(worktree)
    for args in (["get", "loose"], ["get", ids[0], "--json"], ["list"]):
        out, _, code = _slow(cli, wt, args, code=None)
        if code == 0:
            assert _fast(capsys, wt, args) == (out, "")
        else:
            assert _fast(capsys, wt, args) is None
    # the work trees share the cache directory, each with its own entries
    assert (Path(repo.path) / ".git" / "gitassist" / "cache" / "read-v1").is_dir()


@pytest.mark.parametrize("damage", ["garbage", "truncated", "wrong-shape", "deleted"])
def test_a_damaged_or_deleted_cache_is_a_miss(
    make_repo: Any, cli: Any, capsys: Any, damage: str
) -> None:
    repo, ids = _populated(make_repo)
    reads = [["get", ids[0]], ["list", "--json"]]
    before = [_both(cli, capsys, repo, a) for a in reads]
    for path in _cache_dir(repo).glob("*.json"):
        text = path.read_text()
        if damage == "garbage":
            path.write_bytes(b"\xff\x00 not json")
        elif damage == "truncated":
            path.write_text(text[: len(text) // 2])
        elif damage == "wrong-shape":
            entry = json.loads(text)
            entry["data"] = {"rows": "x", "json": 3, "view": None}
            path.write_text(json.dumps(entry))
    if damage == "deleted":
        shutil.rmtree(_cache_dir(repo).parent.parent)
    for args, expected in zip(reads, before, strict=True):
        assert _fast(capsys, repo, args) is None
        assert _both(cli, capsys, repo, args) == expected  # rebuilt


def test_an_unwritable_cache_is_ignored(make_repo: Any, cli: Any, capsys: Any) -> None:
    repo, ids = _populated(make_repo)
    cache = Path(repo.path) / ".git" / "gitassist" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    os.chmod(cache, 0o500)
    try:
        out, err, _ = _slow(cli, repo, ["get", ids[0]])
        assert err == ""
        if not os.access(cache, os.W_OK):  # root writes anyway
            assert _fast(capsys, repo, ["get", ids[0]]) is None
        assert _slow(cli, repo, ["get", ids[0]])[0] == out
    finally:
        os.chmod(cache, 0o700)


def test_errors_are_never_cached(make_repo: Any, cli: Any, capsys: Any, run_cli: Any) -> None:
    repo, ids = _populated(make_repo)
    for _ in range(2):
        _slow(cli, repo, ["get", "no-such-bot"], code=4)
        assert _fast(capsys, repo, ["get", "no-such-bot"]) is None
    _both(cli, capsys, repo, ["get", ids[2]])
    assert run_cli("-C", str(repo.path), "delete", ids[2]).returncode == 0
    assert _fast(capsys, repo, ["get", ids[2]]) is None
    first = run_cli("-C", str(repo.path), "get", ids[2])
    second = run_cli("-C", str(repo.path), "get", ids[2])
    assert first.returncode == second.returncode == 4
    assert first.stderr == second.stderr


def test_what_the_warm_path_leaves_to_click(make_repo: Any, cli: Any, capsys: Any) -> None:
    """Forms it does not handle are misses even with every entry warm."""
    repo, ids = _populated(make_repo)
    _both(cli, capsys, repo, ["get", ids[0]])
    for args in (
        ["get", ids[0], "--rev", "HEAD"],
        ["get", f"{ids[0]}@production"],
        ["get", ids[0], "--json", "--json"],
        ["get", ids[0], "--bogus"],
        ["get", ids[0], "extra"],
        ["get", "--", ids[0]],
        ["versions", "diff", ids[0], "1", "2"],
        ["get", ids[0], "-h"],
    ):
        assert _fast(capsys, repo, args) is None, args


def test_env_that_changes_git_lookup_steps_aside(
    make_repo: Any, cli: Any, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, ids = _populated(make_repo)
    _both(cli, capsys, repo, ["get", ids[0]])
    monkeypatch.setenv("GIT_DIR", str(Path(repo.path) / ".git"))
    assert _fast(capsys, repo, ["get", ids[0]]) is None


def _warm_process(args: list[str]) -> str:
    """What a fresh process answering ``args`` on the warm path prints; it must answer, and
    load none of the heavy libraries."""
    probe = (
        "import sys\nfrom gitassist.cli import fast\n"
        f"ok = fast.run({args!r})\n"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})\n"
        "print(ok, heavy, file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert proc.stderr.strip() == "True []", proc.stderr
    return proc.stdout


def test_the_warm_path_imports_no_heavy_library(make_repo: Any, run_cli: Any) -> None:
    """A warm get/list process loads neither pygit2, pydantic, a YAML library nor click."""
    repo, ids = _populated(make_repo)
    for args in (["get", ids[0], "--json"], ["list"], ["versions", "Bot 1"], ["show", ids[1]]):
        cold = run_cli("-C", str(repo.path), *args)
        assert cold.returncode == 0, cold.stderr
        assert _warm_process(["-C", str(repo.path), *args]) == cold.stdout
        warm = run_cli("-C", str(repo.path), *args)  # the console script: the same bytes
        assert (warm.stdout, warm.stderr, warm.returncode) == (cold.stdout, cold.stderr, 0)


def test_help_is_the_same_without_click(run_cli: Any, tmp_path: Path) -> None:
    first = run_cli("--help")
    assert first.returncode == 0
    assert (Path(os.environ["XDG_CACHE_HOME"]) / "gitassist" / "help-v1.json").is_file()
    assert _warm_process(["--help"]) == first.stdout
    narrow = run_cli("--help", env={"COLUMNS": "60"})  # another width: its own text
    assert narrow.stdout != first.stdout
    assert run_cli("--help", env={"COLUMNS": "60"}).stdout == narrow.stdout
    assert run_cli("-h").stdout == first.stdout
    assert GITASSIST.exists()


# Options as click reads them, for the property test below
_WORDS = st.sampled_from(
    ["get", "list", "versions", "show", "--json", "--limit", "--offset", "5", "0", "-C",
     "--repo", ".", "--name", "bot", "--sort-by", "name", "created_at", "--sort-order", "desc",
     "--graph", "agent", "x@1", "x@latest", "--limit=3", "--json=1", "diff", "-", "--", "-h"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(_WORDS, min_size=1, max_size=7))
def test_the_fast_parser_agrees_with_click(args: list[str]) -> None:
    """Whatever command line the warm path accepts, click reads the same values from it."""
    import click

    from gitassist.cli import fast
    from gitassist.cli.main import cli

    parsed = fast.parse(args)
    if parsed is None:
        return
    command, start, values = parsed
    words = args[2:] if args[0] == "-C" else args
    ctx = click.Context(cli)
    sub = cli.get_command(ctx, words[0])
    assert sub is not None
    sub_ctx = sub.make_context(words[0], list(words[1:]), parent=ctx)
    params = dict(sub_ctx.params)
    assert not sub_ctx.args
    repo = params.pop("repo")
    assert os.path.normpath(start) == os.path.normpath(
        os.path.join(os.getcwd(), args[1] if args[0] == "-C" else ".", repo)
    )
    if command in ("list", "search"):
        params["graph"] = params.pop("graph_id")
        params["metadata"] = params.pop("metadata_text")
    else:
        params.pop("rev", None)
    assert params == values


def _warm_work(capsys: Any, repo: Any, reads: list[list[str]]) -> list[str]:
    """The files read and folders listed while the warm path answers ``reads``."""
    from gitassist import gitlite

    seen: list[str] = []
    real_read, real_scandir = gitlite.read_small, os.scandir

    def read(path: str, limit: int = 1 << 20) -> bytes | None:
        seen.append(f"read {os.path.basename(path)}")
        return real_read(path, limit)

    def scandir(path: Any) -> Any:
        seen.append(f"list {os.path.basename(path)}")
        return real_scandir(path)

    gitlite.read_small, os.scandir = read, scandir  # type: ignore[assignment]
    try:
        for args in reads:
            assert _fast(capsys, repo, args) is not None
    finally:
        gitlite.read_small, os.scandir = real_read, real_scandir  # type: ignore[assignment]
    return seen


def test_a_warm_read_of_one_assistant_reads_the_same_files_at_any_size(
    make_repo: Any, cli: Any, capsys: Any
) -> None:
    """get/show/versions by id, warm: the files read and folders listed do not grow with the
    number of assistants (one assistant's refs, HEAD and config files, the entry)."""
    counts = []
    for n in (2, 9):
        repo = make_repo()
        client = repo.client()
        ids = [
            client.assistants.create("agent", context={"model_name": "echo"}, name=f"B{i}")[
                "assistant_id"
            ]
            for i in range(n)
        ]
        reads = [["get", ids[0]], ["show", ids[0], "--json"], ["versions", ids[0]]]
        for args in reads:
            _both(cli, capsys, repo, args)
        counts.append(len(_warm_work(capsys, repo, reads)))
    assert counts[0] == counts[1] > 0, counts


def test_the_cache_directory_stays_bounded(
    make_repo: Any, cli: Any, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gitassist import read_cache

    monkeypatch.setattr(read_cache, "MAX_ENTRIES", 3)
    repo, ids = _populated(make_repo)
    for args in _commands(ids)[:8]:
        _slow(cli, repo, args)
    assert 1 <= len(list(_cache_dir(repo).iterdir())) <= 3


def test_a_change_only_in_packed_refs_is_seen(
    make_repo: Any, cli: Any, capsys: Any, run_cli: Any
) -> None:
    """A warm lookup skips reading packed-refs while its stat data is unchanged; a pointer
    moved and packed again (the change only in packed-refs) is a miss."""
    repo, ids = _populated(make_repo)
    git(repo.path, "pack-refs", "--all")
    before = _both(cli, capsys, repo, ["get", ids[0], "--json"])
    assert "read packed-refs" not in _warm_work(capsys, repo, [["get", ids[0], "--json"]])
    assert run_cli("-C", str(repo.path), "set-latest", ids[0], "2").returncode == 0
    git(repo.path, "pack-refs", "--all")
    loose = Path(repo.path) / ".git" / "refs" / "assistants" / ids[0] / "latest"
    assert not loose.exists()
    assert _fast(capsys, repo, ["get", ids[0], "--json"]) is None
    after = _both(cli, capsys, repo, ["get", ids[0], "--json"])
    assert after != before and '"version": 2' in after


def test_a_changed_gitassist_file_makes_every_entry_a_miss(
    make_repo: Any, cli: Any, capsys: Any
) -> None:
    """An entry never outlives the code that computed it (an edited or reinstalled file)."""
    import gitassist.resolve

    repo, ids = _populated(make_repo)
    _both(cli, capsys, repo, ["get", ids[0]])
    path = Path(gitassist.resolve.__file__)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    try:
        assert _fast(capsys, repo, ["get", ids[0]]) is None
    finally:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert _fast(capsys, repo, ["get", ids[0]]) is not None
