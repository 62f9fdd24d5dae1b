"""The read cache: the data a read command (``get``, ``show``, ``versions``, ``list``) last
computed, with the state it was computed from, so that a later process can answer without
pygit2, pydantic or a YAML parser.

An entry is one small JSON file in ``<common git dir>/gitassist/cache/read-v1/``, named by a
digest of its key (the command, its arguments, the work tree, gitassist's version and the
renderers' files). It holds the *dependencies* of its data: everything mutable the ordinary
read consulted, each as a value read in pure Python by :mod:`gitassist.gitlite` - the refs of
the assistant (every ref under ``refs/assistants/<id>/``; for ``list`` all of
``refs/assistants/``, ``packed-refs`` counting as unchanged while its stat data is, as in
git's own snapshot of it), HEAD's commit id, the apply record, the repository's ``config``
and the work tree's ``langgraph.json`` / ``gitassist.yaml`` where the read used them.
Everything else the read used is a git object named by those values, which never changes. A
lookup re-reads every dependency and uses the entry only if all are unchanged; anything it
cannot read or does not understand is a miss, and the ordinary path (which writes the entry)
runs. A cache file that is garbled, truncated or unwritable is a miss, never an error; the
directory can be deleted at any time.

Standard library only (``os``, ``json``, ``re``, a SHA-1): this runs on every warm read.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys

from gitassist import gitlite
from gitassist._version import __version__

FORMAT = 1
CACHE_DIR = ("gitassist", "cache", "read-v1")
WORK_FILES = ("langgraph.json", "gitassist.yaml")
APPLIED_REF = "refs/gitassist/applied"  # gitassist.versions.APPLIED_REF (no pygit2 import here)

try:  # the builtin module: hashlib would load OpenSSL (several ms) for a cache digest
    from _sha1 import sha1 as _sha1_new  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - a Python built without it
    from hashlib import sha1 as _sha1_new


class Unknown(Exception):
    """A dependency that cannot be read here: no fast answer."""


def digest(data: bytes) -> str:
    return str(_sha1_new(data).hexdigest())


def code_stamp() -> str:
    """gitassist's own files (name, size, modification time) and the library folders on
    ``sys.path`` (a package installed, upgraded or removed changes theirs): a changed or
    reinstalled one makes every entry a miss, so an entry never outlives the code that
    computed it."""
    here = os.path.dirname(os.path.abspath(__file__))
    seen = []
    for folder in (here, os.path.join(here, "cli")):
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.endswith(".py"):
                    st = entry.stat()
                    seen.append(f"{entry.path}\0{st.st_size}\0{st.st_mtime_ns}")
    seen.sort()
    for folder in sys.path:  # an installed, upgraded or removed library (the YAML emitter
        if os.path.basename(folder) in ("site-packages", "dist-packages"):  # renders `get`)
            with contextlib.suppress(OSError):
                st = os.stat(folder)
                seen.append(f"{folder}\0{st.st_ino}\0{st.st_mtime_ns}")
    return digest("\n".join(seen).encode("utf-8", "surrogateescape"))


def observe(gd: gitlite.GitDir, dep: str) -> object:
    """The current value of dependency ``dep`` (see the module docstring); Unknown if it
    cannot be read in pure Python."""
    if dep == "config":  # the format and extensions; shallow/grafts decide a history's start
        parts = [
            gitlite.read_small(os.path.join(gd.common, "config")),
            gitlite.read_small(os.path.join(gd.gitdir, "config.worktree")),
            gitlite.read_small(os.path.join(gd.common, "shallow"), 1 << 26),
            gitlite.read_small(os.path.join(gd.common, "info", "grafts"), 1 << 26),
        ]
        both = b"\0".join(p or b"" for p in parts)
        if b"include" in (parts[0] or b"").lower() + (parts[1] or b"").lower():
            raise Unknown(dep)  # [include] / [includeIf]: more files decide
        return digest(both)
    if dep == "head":
        head = gd.head()
        if head is False:
            raise Unknown(dep)
        return head
    if dep.startswith("work:"):
        name = dep[5:]
        path = os.path.join(gd.root, name)
        data = gitlite.read_small(path)
        if data is None:
            if os.path.lexists(path):
                raise Unknown(dep)  # a symlink or a directory: the ordinary path decides
            return None
        return digest(data)
    if dep.startswith("refs:"):  # [packed-refs' stat data, its part, the loose ones]
        return _refs_value(gd, dep, None)
    if dep.startswith("refstamp:"):  # many refs (list): packed-refs by its stat data
        loose = gd.loose_refs(dep[9:])
        stamp = gd.packed_stamp()
        if loose is None or stamp is None:
            raise Unknown(dep)
        return [stamp, digest(json.dumps(loose).encode("utf-8"))]
    if dep.startswith("ref:"):
        value = gd.ref(dep[4:])
        if value is False:
            raise Unknown(dep)
        return value
    raise Unknown(dep)


def _refs_value(gd: gitlite.GitDir, dep: str, known: object) -> dict[str, object]:
    """The refs under a prefix: ``merged`` (a digest of their values, loose over packed) is
    what is compared; ``packed`` (that prefix's lines of ``packed-refs``) and ``stamp`` (its
    stat data) let a lookup skip reading ``packed-refs`` - 5 MB at 10,000 assistants - while
    its stat data is unchanged, as git's own snapshot of it does."""
    prefix = dep[5:]
    loose = gd.loose_refs(prefix)
    stamp = gd.packed_stamp()
    if loose is None or stamp is None:
        raise Unknown(dep)
    if isinstance(known, dict) and known.get("stamp") == stamp:
        lines = [tuple(p) for p in known["packed"]]
    else:
        packed = gd.packed()
        if packed is None:
            raise Unknown(dep)
        lines = gitlite.packed_under(packed, (prefix + "/").encode("utf-8"))
    values = dict(lines)
    values.update(loose)
    merged = digest(json.dumps(sorted(values.items())).encode("utf-8"))
    return {"merged": merged, "stamp": stamp, "packed": lines}


def _same(dep: str, a: object, b: object) -> bool:
    if dep.startswith("refs:"):
        return isinstance(a, dict) and isinstance(b, dict) and a.get("merged") == b.get("merged")
    return a == b


def _current(gd: gitlite.GitDir, dep: str, known: object) -> object:
    """``observe``, told the value a cache entry holds (which may spare a read)."""
    if dep.startswith("refs:"):
        return _refs_value(gd, dep, known)
    return observe(gd, dep)


def _full_key(gd: gitlite.GitDir, key: list[object]) -> list[object]:
    return [FORMAT, __version__, code_stamp(), gd.root, *key]


def _entry_path(gd: gitlite.GitDir, full_key: list[object]) -> str:
    name = digest(json.dumps(full_key).encode("utf-8", "surrogatepass"))
    return os.path.join(gd.common, *CACHE_DIR, name + ".json")


def lookup(start: str, key: list[object]) -> object | None:
    """The data cached for ``key`` in the repository at ``start`` if every dependency it was
    computed from still has the value it had (None: a miss of any kind)."""
    gd = gitlite.discover(start)
    if gd is None:
        return None
    full_key = _full_key(gd, key)
    raw = gitlite.read_small(_entry_path(gd, full_key), 1 << 26)
    if raw is None:
        return None
    try:
        entry = json.loads(raw)
        if not isinstance(entry, dict) or entry.get("key") != full_key:
            return None
        deps = entry["deps"]
        if not isinstance(deps, dict) or not deps:
            return None
        for dep, value in deps.items():
            if not _same(dep, _current(gd, dep, value), value):
                return None
    except (ValueError, KeyError, TypeError, Unknown, RecursionError):
        return None
    data: object = entry.get("data")
    return data


class Recorder:
    """Records one ordinary read for later lookups: dependencies are read before the read
    runs and again after it; the entry is written only if they did not change meanwhile."""

    def __init__(self, start: str, key: list[object], deps: list[str]) -> None:
        self.key = key
        self.gd = gitlite.discover(start)
        self.before: dict[str, object] | None = None
        self.stats: list[object] = []
        if self.gd is not None:
            try:
                self.stats = _stats(self.gd, deps)
                self.before = {dep: observe(self.gd, dep) for dep in deps}
            except (Unknown, OSError, ValueError):
                self.before = None

    def matches(self, gitdir: str, root: str, common: str) -> bool:
        """Whether the repository libgit2 opened is the one found here."""
        gd = self.gd
        real = os.path.realpath
        return gd is not None and (real(gitdir), real(root), real(common)) == (
            gd.gitdir,
            gd.root,
            gd.common,
        )

    def save(self, data: object, deps: list[str]) -> bool:
        """Write the entry (``deps``: the dependencies that decided ``data``); False when it
        was not written (state changed, unwritable). Every dependency read at the start must
        be unchanged; one in ``deps`` that was not read then must be covered by one that was
        (``refs:refs/assistants/<id>`` by ``refs:refs/assistants``)."""
        gd, before = self.gd, self.before
        if gd is None or before is None or not deps:
            return False
        try:
            now = {dep: observe(gd, dep) for dep in {*before, *deps}}
        except (Unknown, OSError, ValueError):
            return False
        if not all(_same(d, now[d], before[d]) for d in before):
            return False
        try:
            if _stats(gd, list(before)) != self.stats:
                return False  # moved and moved back meanwhile: the read may have seen either
        except (OSError, ValueError):
            return False
        if any(d not in before and not _covered(d, before) for d in deps):
            return False
        now = {d: now[d] for d in deps}
        full_key = _full_key(gd, self.key)
        entry = {"key": full_key, "deps": now, "data": data}
        path = _entry_path(gd, full_key)
        tmp = f"{path}.{os.getpid()}.tmp"
        try:
            text = json.dumps(entry, default=str)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(tmp, "w", encoding="utf-8", errors="surrogatepass") as fh:
                fh.write(text)
                fh.flush()
                written = os.fstat(fh.fileno()).st_mtime_ns
            if _racy(now, written):
                os.unlink(tmp)
                return False
            os.replace(tmp, path)
            _prune(os.path.dirname(path))
        except (OSError, ValueError, TypeError, RecursionError):
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            return False
        return True


def _stats(gd: gitlite.GitDir, deps: list[str]) -> list[object]:
    """The stat data of the files ``deps`` are read from. A value moved and moved back while
    the ordinary read ran is the same before and after, but git writes a ref (and an editor
    a file) by replacing it: its file's inode or times differ."""
    paths = {os.path.join(gd.common, n) for n in ("packed-refs", "config", "shallow")}
    paths |= {os.path.join(gd.gitdir, n) for n in ("HEAD", "config.worktree")}
    head = gitlite.read_small(os.path.join(gd.gitdir, "HEAD"), 4096) or b""
    if head.startswith(b"ref: "):
        deps = [*deps, "ref:" + head[5:].strip().decode("utf-8", "replace")]
    for dep in deps:
        kind, _, name = dep.partition(":")
        if kind in ("refs", "refstamp"):
            for folder, _, files in os.walk(os.path.join(gd.common, *name.split("/"))):
                paths.update(os.path.join(folder, f) for f in files)
        elif kind == "ref":
            paths.add(os.path.join(gd.common, *name.split("/")))
        elif kind == "work":
            paths.add(os.path.join(gd.root, name))
    out: list[object] = []
    for path in sorted(paths):
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            out.append([path])
            continue
        out.append([path, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns])
    return out


def _racy(deps: dict[str, object], written: int) -> bool:
    """Whether a ``packed-refs`` stat stamp in ``deps`` is not older than the entry (its
    file's mtime, same clock): a rewrite within the same timestamp tick could then keep the
    same stamp (git's "racily clean"), so such an entry is not kept."""
    for dep, value in deps.items():
        stamp = value.get("stamp") if isinstance(value, dict) else None
        if dep.startswith("refstamp:") and isinstance(value, list):
            stamp = value[0]
        if isinstance(stamp, list) and len(stamp) == 4 and max(stamp[2:]) >= written:
            return True
    return False


MAX_ENTRIES = 2000


def _prune(folder: str) -> None:
    """Keep the directory small: past MAX_ENTRIES, drop the older half (by last write)."""
    names = os.listdir(folder)
    if len(names) <= MAX_ENTRIES:
        return
    stamped = []
    for name in names:
        with contextlib.suppress(OSError):
            stamped.append((os.stat(os.path.join(folder, name)).st_mtime_ns, name))
    stamped.sort()
    for _, name in stamped[: len(stamped) // 2]:
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(folder, name))


def _covered(dep: str, before: dict[str, object]) -> bool:
    """Whether ``dep`` (one assistant's refs) lies under a refs dependency read before."""
    if not dep.startswith("refs:"):
        return False
    kinds = ("refs:", "refstamp:")
    tops = [b.partition(":")[2] for b in before if b.startswith(kinds)]
    return any(dep[5:].startswith(top + "/") for top in tops)


def roundtrip(data: object) -> object:
    """``data`` as a lookup will return it (through JSON, as the entry stores it)."""
    return json.loads(json.dumps(data, default=str))
