"""Automatic packing of loose objects: under gitassist's lock, never pack-refs, after writes."""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import time
from typing import TYPE_CHECKING, Any

from gitassist import housekeeping
from gitassist.store import Store

if TYPE_CHECKING:
    from pathlib import Path


def loose(repo: Any) -> int:
    text = repo.git("count-objects", "-v")
    return int(next(line for line in text.splitlines() if line.startswith("count:")).split()[1])


def written(make_repo: Any, updates: int = 8) -> tuple[Any, Any, str]:
    repo = make_repo()
    repo.git("repack", "-a", "-d", "-q")  # only gitassist's writes are loose
    client = repo.client()
    aid = client.assistants.create("agent", context={"model_name": "echo"}, name="B")
    for i in range(updates):
        client.assistants.update(
            aid["assistant_id"], context={"model_name": "echo", "system_prompt": str(i)}
        )
    return repo, client, aid["assistant_id"]


def test_pack_packs_the_loose_objects_and_no_ref(make_repo: Any) -> None:
    repo, client, aid = written(make_repo)
    before = loose(repo)
    assert before >= 8 * 4
    refs = repo.refs()
    packed = repo.path / ".git" / "packed-refs"
    packed_before = packed.read_bytes() if packed.exists() else None
    assert housekeeping.pack(repo.path / ".git")
    assert loose(repo) == 0
    assert repo.refs() == refs
    assert (packed.read_bytes() if packed.exists() else None) == packed_before
    repo.git("fsck", "--no-dangling")
    assert client.assistants.get(aid)["version"] == 9
    assert [v["version"] for v in client.assistants.get_versions(aid)][:2] == [9, 8]


def test_one_packer_at_a_time_and_writers_do_not_block_it(make_repo: Any) -> None:
    repo, client, aid = written(make_repo, updates=1)
    before = loose(repo)
    fd = os.open(repo.path / ".git" / "gitassist" / "pack.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # another packer is running
        assert not housekeeping.pack(repo.path / ".git", wait=0.3)
        assert loose(repo) == before
    finally:
        os.close(fd)
    store = Store(repo.path)
    with store.refdb.lock():  # a writer holds the write lock: packing goes on
        assert housekeeping.pack(repo.path / ".git", wait=0.3)
    assert loose(repo) == 0
    assert client.assistants.get(aid)["version"] == 2


def _plant_in_17(repo: Any, count: int) -> None:
    """Unreachable loose blobs in objects/17 (the directory git's estimate samples)."""
    found = 0
    i = 0
    while found < count:
        data = f"junk {i}\n".encode()
        i += 1
        if hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest().startswith("17"):
            subprocess.run(
                ["git", "hash-object", "-w", "--stdin"], cwd=repo.path, input=data, check=True
            )
            found += 1


def test_needs_pack_follows_gc_auto(make_repo: Any) -> None:
    repo = make_repo()
    common = repo.path / ".git"
    assert not housekeeping.needs_pack(common)
    _plant_in_17(repo, 3)
    assert housekeeping.loose_estimate(common) == 3 * 256
    assert not housekeeping.needs_pack(common)  # 768 <= git's default 6,700
    repo.git("config", "gc.auto", "300")  # limit: 2 files in objects/17
    assert housekeeping.needs_pack(common)
    repo.git("config", "gc.auto", "0")  # off, as for git
    assert not housekeeping.needs_pack(common)


def test_a_write_past_gc_auto_packs_in_the_background(make_repo: Any) -> None:
    repo = make_repo()
    _plant_in_17(repo, 3)
    repo.git("config", "gc.auto", "300")
    client = repo.client()
    created = client.assistants.create("agent", context={"model_name": "echo"}, name="B")
    head = repo.git("rev-parse", "HEAD")
    stamp = repo.path / ".git" / "gitassist" / "packing"
    deadline = time.monotonic() + 60  # a hang guard, not a timing
    while (stamp.exists() or _is_loose(repo.path, head)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _is_loose(repo.path, head)  # packed by the detached packer
    assert not stamp.exists()
    assert client.assistants.get(created["assistant_id"])["version"] == 1
    repo.git("fsck", "--no-dangling")


def _is_loose(root: Path, oid: str) -> bool:
    return (root / ".git" / "objects" / oid[:2] / oid[2:]).exists()


def test_packs_past_gc_auto_pack_limit_are_merged(make_repo: Any) -> None:
    repo, client, aid = written(make_repo, updates=1)
    repo.git("config", "gc.autoPackLimit", "2")
    packs = repo.path / ".git" / "objects" / "pack"
    counts = []
    for i in range(3):
        client.assistants.update(aid, context={"model_name": "echo", "system_prompt": f"p{i}"})
        assert housekeeping.pack(repo.path / ".git")
        counts.append(len(list(packs.glob("*.pack"))))
    assert counts == [2, 3, 1]  # the third pack saw 3 > 2 packs and merged them
    repo.git("fsck", "--no-dangling")
    assert client.assistants.get(aid)["version"] == 5
