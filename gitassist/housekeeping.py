"""Pack loose objects automatically, as ``git gc --auto`` would, without its ``pack-refs``.

Every write leaves a few loose objects (blob, trees, commits, tag; ~10 at 10,000 assistants)
and nothing else packs them, so a repository written thousands of times through the API
fills ``.git/objects`` with loose files: slower lookups, a larger repository. After each
write (when gitassist's write lock is released) :func:`after_write` makes git's own cheap
estimate: the number of files in one fan-out directory (``objects/17``) times 256, against
``gc.auto`` (default 6,700; 0 turns packing off, as for git). Past it, a detached
``python -m gitassist.housekeeping <common dir>`` takes gitassist's packer lock
(``gitassist/pack.lock``: one packer at a time) and runs ``git repack -d -q`` (an
incremental pack of the loose objects; ``-d`` removes the loose copies it packed; past
``gc.autoPackLimit`` packs, ``-A`` merges them into one, as ``gc --auto`` does). It does not
take the write lock, so no write waits for it: packing objects is safe beside writers, as it is for
git's own ``gc --auto`` (a loose object is removed only once a pack holds it, and readers
look in new packs when an object is not where they expected it).

It never runs ``git pack-refs`` (which ``git gc`` does): that takes ``packed-refs.lock``,
which gitassist's ref writer would report as a conflicting git command. Packing refs is the
ref writer's own business (:mod:`gitassist.refs`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_AUTO = 6700  # git's gc.auto default
DEFAULT_PACK_LIMIT = 50  # git's gc.autoPackLimit default
_STAMP = "packing"  # <common>/gitassist/packing: when a packer last started
_RESPAWN_S = 60.0
LOCK_WAIT_S = 60.0


_CONFIGS: dict[tuple[str, str], tuple[tuple[object, ...], int]] = {}


def _config_stamp(common: Path) -> tuple[object, ...]:
    """What the answer depends on: the config files' sizes and times, and the environment
    that picks them (so a cached answer is dropped the moment any of them changes)."""
    home = os.environ.get("HOME", "")
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    files = [str(common / "config"), os.path.join(home, ".gitconfig")]
    files += [os.path.join(xdg, "git", "config"), "/etc/gitconfig"]
    stamp: list[object] = [os.environ.get(k) for k in ("GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM")]
    stamp.append(os.environ.get("GIT_CONFIG_NOSYSTEM"))
    for name in files:
        try:
            st = os.stat(name)
            stamp.append((name, st.st_size, st.st_mtime_ns, st.st_ino))
        except OSError:
            stamp.append((name, None))
    return tuple(stamp)


def gc_auto(common: Path, key: str = "gc.auto", default: int = DEFAULT_AUTO) -> int:
    """``gc.auto`` (or another integer) from the repository's git config, as git reads it;
    read again only when one of the usual config files (or the environment naming them)
    changed; a file pulled in by ``include.path`` is not watched."""
    stamp = _config_stamp(common)
    found = _CONFIGS.get((str(common), key))
    if found is not None and found[0] == stamp:
        return found[1]
    try:
        import pygit2

        config = pygit2.Repository(str(common)).config
        value = config.get_int(key) if key in config else default
    except Exception:  # an unreadable config: git's default
        return default
    _CONFIGS[(str(common), key)] = (stamp, value)
    return value


def too_many_packs(common: Path) -> bool:
    """More packs than ``gc.autoPackLimit`` (default 50; 0: never), as ``gc --auto`` checks:
    then the packs are merged into one (``repack -A -d``)."""
    try:
        with os.scandir(common / "objects" / "pack") as it:
            packs = sum(1 for e in it if e.name.endswith(".pack"))
    except OSError:
        return False
    if packs <= 1:
        return False
    limit = gc_auto(common, "gc.autoPackLimit", DEFAULT_PACK_LIMIT)
    return 0 < limit < packs


def loose_estimate(common: Path) -> int:
    """git's estimate of the loose objects: the files in ``objects/17``, times 256."""
    try:
        with os.scandir(common / "objects" / "17") as it:
            return 256 * sum(1 for e in it if len(e.name) == 38)
    except OSError:
        return 0


def needs_pack(common: Path) -> bool:
    """Whether loose objects are past ``gc.auto`` (cheap when they are not: one listdir)."""
    estimate = loose_estimate(common)
    if estimate <= 256:  # not even two objects in the sample directory
        return False
    auto = gc_auto(common)
    return auto > 0 and estimate > ((auto + 255) // 256) * 256


def after_write(common: Path) -> bool:
    """Start a detached packer if loose objects are past ``gc.auto``; True when started.
    Never fails: housekeeping is not part of any write's result."""
    try:
        if not needs_pack(common):
            return False
        stamp = common / "gitassist" / _STAMP
        with contextlib.suppress(OSError):
            if time.time() - stamp.stat().st_mtime < _RESPAWN_S:
                return False  # one is (or was just) running
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(str(os.getpid()), encoding="utf-8")
        subprocess.Popen(  # our own interpreter and module
            [sys.executable, "-m", "gitassist.housekeeping", str(common)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
        )
        return True
    except Exception:  # never let housekeeping fail a write
        return False


def pack(common: Path, *, wait: float = LOCK_WAIT_S) -> bool:
    """Pack the loose objects under gitassist's packer lock; False when another packer held
    it for ``wait`` seconds or git failed (a later write will try again)."""
    own = common / "gitassist"
    own.mkdir(parents=True, exist_ok=True)
    fd = os.open(own / "pack.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.05)
        merge = ["-A"] if too_many_packs(common) else []  # -A: unreachable objects stay, loose
        proc = subprocess.run(
            [
                "git",
                "--git-dir",
                str(common),
                "repack",
                *merge,
                "-d",
                "-q",
                "--no-write-bitmap-index",
            ],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
        return proc.returncode == 0
    except OSError:
        return False
    finally:
        os.close(fd)  # releases the flock
        with contextlib.suppress(OSError):
            (own / _STAMP).unlink()


if __name__ == "__main__":  # the detached packer
    raise SystemExit(0 if pack(Path(sys.argv[1])) else 1)
