"""Repositories that are not the plain one: linked worktrees, odd file names, threads and
processes writing at once, leftovers of a killed write, autocrlf, merges and rebases in
progress, shallow clones, and formats gitassist refuses (reftable, sha256)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pygit2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitassist.errors import Conflict, ExitCode, RepositoryError
from tests.conftest import ROOT, Repo, doc_yaml, git


def snapshot(repo: Repo) -> tuple[object, ...]:
    """Refs, HEAD, index entries (not stat data) and work-tree status."""
    return (
        repo.refs(),
        repo.git("rev-parse", "HEAD"),
        repo.git("ls-files", "-s"),
        repo.git("status", "--porcelain", "--untracked-files=all"),
    )


def latest_version(repo: Repo | Path, aid: str) -> int:
    path = repo if isinstance(repo, Path) else repo.path
    message = git(path, "log", "-1", "--format=%B", f"refs/assistants/{aid}/latest")
    return int(json.loads(message[message.index("{") :])["version"])


def version_numbers(repo: Repo, aid: str) -> list[int]:
    refs = repo.git("for-each-ref", "--format=%(refname)", f"refs/assistants/{aid}/versions/")
    return sorted(int(line.rsplit("/", 1)[1]) for line in refs.splitlines())


def _bot(make_repo, cli) -> tuple[Repo, str]:
    """A repository whose assistant Bot has versions 1 and 2 (2 active)."""
    aid = str(uuid.uuid4())
    repo = make_repo({"assistants/bot.yaml": doc_yaml(aid)})
    cli("apply", "-C", str(repo.path))
    cli("update", "Bot", "--set", "system_prompt=two", "-C", str(repo.path))
    assert latest_version(repo, aid) == 2
    return repo, aid


# --------------------------------------------------------------------------- 1. worktrees


def test_set_latest_in_a_linked_worktree_moves_the_shared_pointer(make_repo, cli, tmp_path):
    repo, aid = _bot(make_repo, cli)
    wt = tmp_path / "wt"
    repo.git("worktree", "add", "-q", str(wt), "-b", "feature")
    out = cli("set-latest", "Bot", "1", "-C", str(wt)).output
    assert "version 1" in out
    assert latest_version(repo, aid) == 1  # seen from the main checkout
    assert latest_version(wt, aid) == 1
    private = Path(repo.git("rev-parse", "--git-path", "worktrees/wt"))
    private = private if private.is_absolute() else repo.path / private
    assert not (private / "refs").exists()  # nothing written where git does not look
    assert git(wt, "fsck", "--no-dangling") == ""


def test_update_in_a_linked_worktree_commits_on_its_branch(make_repo, cli, tmp_path):
    repo, aid = _bot(make_repo, cli)
    main_before = repo.git("rev-parse", "main")
    wt = tmp_path / "wt"
    repo.git("worktree", "add", "-q", str(wt), "-b", "feature")
    cli("update", "Bot", "--set", "system_prompt=feature", "-C", str(wt))
    assert git(wt, "status", "--porcelain") == ""  # nothing left staged
    assert git(wt, "rev-parse", "HEAD") == git(wt, "rev-parse", "feature") != main_before
    assert "feature" in git(wt, "show", "HEAD:assistants/bot.yaml")
    assert repo.git("rev-parse", "main") == main_before
    assert repo.git("status", "--porcelain") == ""
    assert latest_version(repo, aid) == 2  # a feature branch records no version


def test_main_checkout_and_two_worktrees_share_refs_and_one_lock(make_repo, cli, tmp_path):
    repo, aid = _bot(make_repo, cli)
    cli("create", "agent", "--name", "Other", "--set", "model_name=echo", "-C", str(repo.path))
    one, two = tmp_path / "one", tmp_path / "two"
    repo.git("worktree", "add", "-q", str(one), "-b", "one")
    repo.git("worktree", "add", "-q", str(two), "-b", "two")
    cli("set-latest", "Bot", "1", "-C", str(one))
    assert latest_version(two, aid) == 1
    cli("set-latest", "Bot", "2", "-C", str(two))
    assert latest_version(one, aid) == latest_version(repo, aid) == 2
    cli("update", "Other", "--set", "system_prompt=on one", "-C", str(one))
    cli("update", "Bot", "--set", "system_prompt=on two", "-C", str(two))
    assert "on one" in git(one, "show", "one:assistants/other.yaml")
    assert "on two" in git(two, "show", "two:assistants/bot.yaml")
    for path in (repo.path, one, two):
        assert git(path, "status", "--porcelain") == ""
    assert "Other" in cli("list", "-C", str(two)).output

    from gitassist.store import Store

    stores = [Store(p) for p in (repo.path, one, two)]
    common = (repo.path / ".git").resolve()
    assert {s.refdb.gitdir for s in stores} == {common}
    assert {s.refdb.own for s in stores} == {common / "gitassist"}
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with stores[1].refdb.lock():
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        held.wait(30)
        with pytest.raises(Conflict), stores[2].refdb.lock(timeout=0):
            pass  # another thread holds the lock, from another worktree
    finally:
        release.set()
        holder.join()
    with stores[2].refdb.lock(timeout=0):
        pass
    assert repo.git("fsck", "--no-dangling") == ""


# --------------------------------------------------------------------------- 2. file names

ODD_NAMES = ["tab\there", "line\nfeed", "carriage\rreturn", "sep\u2028arator", '"quoted']


@pytest.mark.parametrize("name", ODD_NAMES, ids=["tab", "lf", "cr", "u2028", "quote"])
def test_odd_file_names_survive_apply_list_versions_update(make_repo, cli, name):
    aid = str(uuid.uuid4())
    repo = make_repo({f"assistants/{name}.yaml": doc_yaml(aid, name="Odd")})
    cli("apply", "-C", str(repo.path))
    assert "Odd" in cli("list", "-C", str(repo.path)).output
    cli("versions", "Odd", "-C", str(repo.path))
    cli("update", "Odd", "--set", "system_prompt=two", "-C", str(repo.path))
    cli("update", aid, "--set", "system_prompt=three", "-C", str(repo.path))
    assert latest_version(repo, aid) == 3
    assert repo.git("status", "--porcelain") == ""
    assert "three" in repo.git("show", f"HEAD:assistants/{name}.yaml")


def _replace_shard(repo: Repo, data: bytes) -> None:
    """Rewrite the apply record's index shards as an older or broken writer might have."""
    r = pygit2.Repository(str(repo.path))
    record = r.revparse_single("refs/gitassist/applied").peel(pygit2.Commit)
    shards = r.get(record.tree["index"].id)
    builder = r.TreeBuilder(shards)
    for item in shards:
        builder.insert(item.name, r.create_blob(data), pygit2.GIT_FILEMODE_BLOB)
    root = r.TreeBuilder()
    root.insert("index", builder.write(), pygit2.GIT_FILEMODE_TREE)
    sig = pygit2.Signature("x", "x@example.com")
    oid = r.create_commit(None, sig, sig, record.message, root.write(), [record.id])
    repo.git("update-ref", "refs/gitassist/applied", str(oid), str(record.id))


def test_an_old_unquoted_record_with_a_tab_still_reads(make_repo, cli):
    aid = str(uuid.uuid4())
    repo = make_repo({"assistants/a\tb.yaml": doc_yaml(aid, name="Tabby")})
    cli("apply", "-C", str(repo.path))
    blob = repo.git("rev-parse", "HEAD:assistants/a\tb.yaml")
    _replace_shard(repo, f"{aid}\tassistants/a\tb.yaml\t{blob}\tagent\n".encode())
    result = cli("list", "-C", str(repo.path))
    assert "Tabby" in result.output and "warning" not in result.output
    cli("update", "Tabby", "--set", "system_prompt=two", "-C", str(repo.path))
    assert latest_version(repo, aid) == 2


def test_an_unreadable_index_is_rebuilt_with_a_warning(make_repo, cli):
    aid = str(uuid.uuid4())
    repo = make_repo({"assistants/a\nb.yaml": doc_yaml(aid, name="Broken")})
    cli("apply", "-C", str(repo.path))
    blob = repo.git("rev-parse", "HEAD:assistants/a\nb.yaml")
    _replace_shard(repo, f"{aid}\tassistants/a\nb.yaml\t{blob}\tagent\n".encode())  # old writer
    result = cli("list", "-C", str(repo.path))
    assert "Broken" in result.output
    assert "warning: the apply record's index shard" in result.stderr
    assert "rebuilt it from the applied tree" in result.stderr
    cli("versions", "Broken", "-C", str(repo.path))
    cli("update", "Broken", "--set", "system_prompt=two", "-C", str(repo.path))
    assert latest_version(repo, aid) == 2
    assert "warning" not in cli("list", "-C", str(repo.path)).stderr  # the write rewrote it


git_paths = st.text(st.characters(blacklist_categories=(), blacklist_characters="\x00"), min_size=1)


@settings(max_examples=300)
@given(path=git_paths, graph_id=git_paths)
def test_index_lines_round_trip_any_path_git_can_store(path, graph_id):
    from gitassist.index import IndexEntry, _line, _parse

    entry = IndexEntry(str(uuid.UUID(int=7)), path, "ab" * 20, graph_id)
    line = _line(entry)
    assert line.count("\n") == 1 and line.count("\t") == 3
    parsed: dict[str, IndexEntry] = {}
    _parse(line.encode("utf-8") * 2, parsed)
    assert parsed == {entry.assistant_id: entry}


# --------------------------------------------------------------------------- 6. concurrency


def _assert_consistent(repo: Repo) -> None:
    assert repo.git("fsck", "--no-dangling") == ""
    assert repo.git("status", "--porcelain", "--untracked-files=all") == ""
    refs = repo.refs()
    for aid in {n.split("/")[2] for n in refs if n.startswith("refs/assistants/")}:
        numbers = version_numbers(repo, aid)
        assert numbers == list(range(1, len(numbers) + 1)), aid
        assert latest_version(repo, aid) == numbers[-1]


def test_fifty_concurrent_writes_through_the_async_client(make_repo, cli):
    from gitassist import get_client

    repo, aid = _bot(make_repo, cli)

    async def main() -> list[object]:
        client = get_client(repo=repo.path)
        creates = [
            client.assistants.create("agent", context={"model_name": "echo"}, name=f"Bot {i}")
            for i in range(25)
        ]
        updates = [
            client.assistants.update(aid, context={"model_name": "echo", "system_prompt": str(i)})
            for i in range(25)
        ]
        return await asyncio.gather(*creates, *updates, return_exceptions=True)

    results = asyncio.run(main())
    failures = [r for r in results if isinstance(r, BaseException)]
    assert failures == []
    assert version_numbers(repo, aid) == list(range(1, 28))  # 2 before, 25 updates
    names = {r["name"] for r in results[:25]}  # type: ignore[index]
    assert names == {f"Bot {i}" for i in range(25)}
    assert len(list((repo.path / "assistants").glob("*.yaml"))) == 26
    _assert_consistent(repo)


WORKER = """
import asyncio, sys
from gitassist import get_client

async def main():
    client = get_client(repo=sys.argv[1])
    n = sys.argv[2]
    creates = [
        client.assistants.create("agent", context={"model_name": "echo"}, name=f"P{n} {i}")
        for i in range(6)
    ]
    updates = [
        client.assistants.update(
            sys.argv[3], context={"model_name": "echo", "system_prompt": f"{n}.{i}"}
        )
        for i in range(6)
    ]
    await asyncio.gather(*creates, *updates)

asyncio.run(main())
"""


def test_four_processes_writing_at_once(make_repo, cli):
    repo, aid = _bot(make_repo, cli)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(repo.path), str(n), aid],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [err for _, err in outputs]
    assert version_numbers(repo, aid) == list(range(1, 2 + 4 * 6 + 1))
    assert len(list((repo.path / "assistants").glob("*.yaml"))) == 1 + 4 * 6
    _assert_consistent(repo)


def test_a_failed_write_leaves_index_and_work_tree_as_they_were(make_repo, cli):
    repo, _ = _bot(make_repo, cli)
    (repo.path / "notes.txt").write_text("staged work\n")
    repo.git("add", "notes.txt")
    (repo.path / ".git/refs/heads/main.lock").write_text("")  # a git command is running
    before = snapshot(repo)
    text = (repo.path / "assistants/bot.yaml").read_bytes()
    result = cli("update", "Bot", "--set", "system_prompt=x", "-C", str(repo.path), code=5)
    assert "main.lock is locked" in result.stderr
    assert snapshot(repo) == before
    assert (repo.path / "assistants/bot.yaml").read_bytes() == text


# --------------------------------------------------------------------------- 7. leftovers


def test_a_killed_writes_temp_file_and_stray_files_do_not_block(make_repo, cli):
    repo, aid = _bot(make_repo, cli)
    tmp = repo.path / "assistants/.bot.yaml.gitassist-tmp"
    tmp.write_text("half a document")
    (repo.path / "assistants/.DS_Store").write_bytes(b"\0\1")
    (repo.path / ".DS_Store").write_bytes(b"\0\1")
    cli("plan", "-C", str(repo.path))
    cli("apply", "-C", str(repo.path))
    assert not tmp.exists()  # the next write cleans what a killed one left
    tmp.write_text("half a document")
    cli("update", "Bot", "--set", "system_prompt=three", "-C", str(repo.path))
    assert not tmp.exists()
    assert latest_version(repo, aid) == 3


def test_dirty_documents_still_block_apply_with_a_fitting_hint(make_repo, cli):
    repo, _ = _bot(make_repo, cli)
    (repo.path / "assistants/new.yaml").write_text(doc_yaml(str(uuid.uuid4()), name="New"))
    before = snapshot(repo)
    result = cli("apply", "-C", str(repo.path), code=ExitCode.REPOSITORY)
    assert "untracked assistant document(s) assistants/new.yaml" in result.stderr
    assert "git add" in result.stderr
    assert snapshot(repo) == before
    (repo.path / "assistants/new.yaml").unlink()
    (repo.path / "assistants/bot.yaml").write_text(doc_yaml(str(uuid.uuid4())))
    result = cli("plan", "-C", str(repo.path), code=ExitCode.REPOSITORY)
    assert "uncommitted changes to assistants/bot.yaml" in result.stderr
    assert "stash" in result.stderr


# --------------------------------------------------------------------------- 9-13. odd states


def test_autocrlf_checkout_is_not_an_uncommitted_change(make_repo, cli):
    repo, aid = _bot(make_repo, cli)
    repo.git("config", "core.autocrlf", "true")
    (repo.path / "assistants/bot.yaml").unlink()
    repo.git("checkout", "--", "assistants/bot.yaml")
    assert b"\r\n" in (repo.path / "assistants/bot.yaml").read_bytes()
    assert repo.git("status", "--porcelain") == ""
    cli("update", "Bot", "--set", "system_prompt=three", "-C", str(repo.path))
    assert latest_version(repo, aid) == 3
    cli("delete", "Bot", "-C", str(repo.path))
    assert repo.git("status", "--porcelain") == ""


def test_a_merge_in_progress_refuses_writes(make_repo, cli):
    repo, _ = _bot(make_repo, cli)
    repo.git("switch", "-q", "-c", "side")
    repo.commit({"notes.txt": "side\n"}, "side")
    repo.git("switch", "-q", "main")
    repo.commit({"notes.txt": "main\n"}, "main")
    repo.git("merge", "side", check=False)
    assert (repo.path / ".git/MERGE_HEAD").exists()
    before = snapshot(repo)
    for args in (("update", "Bot", "--set", "system_prompt=x"), ("create", "agent"), ("apply",)):
        result = cli(*args, "-C", str(repo.path), code=ExitCode.REPOSITORY)
        assert "a merge is in progress" in result.stderr, args
        assert snapshot(repo) == before
    cli("plan", "-C", str(repo.path))  # reading is fine


def test_a_rebase_in_progress_refuses_writes(make_repo, cli):
    repo, _ = _bot(make_repo, cli)
    repo.git("switch", "-q", "-c", "side")
    repo.commit({"notes.txt": "side\n"}, "side")
    repo.git("switch", "-q", "main")
    repo.commit({"notes.txt": "main\n"}, "main")
    repo.git("switch", "-q", "side")
    repo.git("rebase", "main", check=False)
    assert (repo.path / ".git/rebase-merge").exists() or (repo.path / ".git/rebase-apply").exists()
    before = snapshot(repo)
    result = cli("update", "Bot", "--set", "system_prompt=x", "-C", str(repo.path), code=6)
    assert "rebase" in result.stderr and "in progress" in result.stderr
    assert snapshot(repo) == before


def test_shallow_clone_is_named_before_any_rewrite(make_repo, cli, tmp_path):
    repo, aid = _bot(make_repo, cli)
    for i in range(3):
        prompt = f"prompt {i}"
        repo.commit(
            {
                "assistants/bot.yaml": doc_yaml(
                    aid, context={"model_name": "echo", "system_prompt": prompt}
                )
            }
        )
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo.path}", str(clone))
    cli("fetch", "origin", "-C", str(clone))
    assert (clone / ".git/shallow").exists()
    result = cli("apply", "-C", str(clone), code=ExitCode.REPOSITORY)
    text = result.stderr
    assert "shallow clone" in text and "fetch-depth: 0" in text
    assert "rewritten" not in text


def _with_extension(path: Path, key: str, value: str) -> None:
    git(path, "config", "core.repositoryformatversion", "1")
    git(path, "config", key, value)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("extensions.refStorage", "reftable", "refs are stored as 'reftable'"),
        ("extensions.objectFormat", "sha256", "object format is 'sha256'"),
        ("extensions.partialClone", "origin", "repository extension(s) partialclone"),
    ],
)
def test_reftable_and_sha256_repositories_are_refused(make_repo, cli, key, value, message):
    repo = make_repo()
    _with_extension(repo.path, key, value)
    for args in (("list",), ("create", "agent"), ("apply",)):
        result = cli(*args, "-C", str(repo.path), code=ExitCode.REPOSITORY)
        assert message in result.stderr
    with pytest.raises(RepositoryError, match="does not support this repository"):
        repo.store()


def test_a_real_sha256_repository_is_refused(tmp_path, cli):
    proc = subprocess.run(
        ["git", "init", "-q", "--object-format=sha256", str(tmp_path / "s")],
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        pytest.skip("this git cannot make sha256 repositories")
    result = cli("list", "-C", str(tmp_path / "s"), code=ExitCode.REPOSITORY)
    assert "sha256" in result.stderr


def test_moving_documents_to_a_new_assistants_dir_is_a_rename(make_repo, cli):
    repo, aid = _bot(make_repo, cli)
    repo.git("mv", "assistants", "bots")
    repo.commit({"gitassist.yaml": "assistants_dir: bots\n"}, "move the documents")
    assert "1 document(s) valid" in cli("validate", "-C", str(repo.path)).output
    cli("update", "Bot", "--set", "system_prompt=moved", "-C", str(repo.path))
    assert latest_version(repo, aid) == 3
    assert "moved" in repo.git("show", "HEAD:bots/bot.yaml")
    out = cli("apply", "-C", str(repo.path)).output
    assert "up to date" in out
    cli("create", "agent", "--name", "Other", "--set", "model_name=echo", "-C", str(repo.path))
    assert (repo.path / "bots/other.yaml").is_file()
    assert version_numbers(repo, aid) == [1, 2, 3]
    _assert_consistent(repo)


def test_moving_the_assistants_dir_then_applying_records_no_new_version(make_repo, cli):
    repo, aid = _bot(make_repo, cli)
    repo.git("mv", "assistants", "bots")
    repo.commit({"gitassist.yaml": "assistants_dir: bots\n"}, "move the documents")
    out = cli("apply", "-C", str(repo.path)).output
    assert "renamed from assistants/bot.yaml" in out
    assert version_numbers(repo, aid) == [1, 2]
    cli("update", "Bot", "--set", "system_prompt=after", "-C", str(repo.path))
    assert version_numbers(repo, aid) == [1, 2, 3]


file_stems = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"), min_size=1
).filter(lambda s: s not in (".", "..") and len(s.encode()) < 200 and not s.startswith("."))


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(stem=file_stems)
def test_any_file_name_git_can_store_never_breaks_later_commands(make_repo, cli, stem):
    aid = str(uuid.uuid4())
    repo = make_repo({f"assistants/{stem}.yaml": doc_yaml(aid, name="Fuzzed")})
    cli("apply", "-C", str(repo.path))
    assert aid in cli("list", "--json", "-C", str(repo.path)).output
    cli("versions", aid, "-C", str(repo.path))
    cli("update", aid, "--set", "system_prompt=two", "-C", str(repo.path))
    assert latest_version(repo, aid) == 2
    assert repo.git("status", "--porcelain") == ""
