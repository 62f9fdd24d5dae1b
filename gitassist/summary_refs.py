"""The refs under ``refs/assistants/`` as the search index reads them: listed through libgit2,
or snapshotted from the common git directory (loose files and ``packed-refs``) with an identity
that changes whenever any of them does.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitassist.versions import NAMESPACE, parse_ref

if TYPE_CHECKING:
    from collections.abc import Container

    from gitassist.store import Store

# what versions.parse_ref accepts, for the common names (checked without building UUIDs)
_OURS = re.compile(
    r"refs/assistants/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/"
    r"(?:latest|versions/[1-9][0-9]{0,8})\Z"
)


def assistant_refs(store: Store) -> tuple[list[str], dict[str, str]]:
    """Every ref under ``refs/assistants/`` (in listing order) and the object each names."""
    names: list[str] = []
    values: dict[str, str] = {}
    prefix = NAMESPACE + "/"
    for ref in store.repo.references.iterator():
        try:
            name = ref.name
        except UnicodeDecodeError:  # pragma: no cover - names are read with raw_listall
            continue
        if not name.startswith(prefix):
            continue
        names.append(name)
        target = ref.target
        if isinstance(target, str):  # symbolic
            resolved = store.refdb.read(name)
            if resolved is not None:
                values[name] = resolved
        else:
            values[name] = str(target)
    return names, values


@dataclass(frozen=True)
class Refs:
    """The refs under ``refs/assistants/``: names in order, values, names known to be ours."""

    names: list[str]
    values: dict[str, str]
    checked: Container[str]


def ours(name: str) -> bool:
    return _OURS.match(name) is not None or parse_ref(name) is not None


_PACKED: dict[str, tuple[tuple[int, ...], dict[str, str]]] = {}
_ALL_OURS: set[str] = set()  # packed-refs files whose every assistant ref name is ours
_HEX40 = re.compile(r"[0-9a-f]{40}\Z")
_PACKED_LINE = re.compile(r"^([0-9a-f]{40}) (refs/assistants/[^\n]*)$", re.M)
_PACKED_OURS = re.compile(
    r"^[0-9a-f]{40} refs/assistants/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/"
    r"(?:latest|versions/[1-9][0-9]{0,8})$",
    re.M,
)


def _packed_refs(gitdir: Path) -> tuple[tuple[int, ...], dict[str, str]] | None:
    """``refs/assistants/*`` in ``packed-refs``, re-parsed whenever its stat data changes
    (as git's own packed-refs snapshot is); None if it cannot be read."""
    path = gitdir / "packed-refs"
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return (), {}
    except OSError:
        return None
    stamp = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    key = os.fspath(path)
    found = _PACKED.get(key)
    if found is not None and found[0] == stamp:
        return found
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    found_refs = _PACKED_LINE.findall(text)
    if len(found_refs) != text.count(" " + NAMESPACE + "/"):
        return None  # a line gitassist does not understand: libgit2 decides
    values = {name: oid for oid, name in found_refs}
    if len(_PACKED_OURS.findall(text)) == len(found_refs):
        _ALL_OURS.add(key)
    else:
        _ALL_OURS.discard(key)
    _PACKED[key] = (stamp, values)
    return stamp, values


def ref_snapshot(store: Store) -> tuple[Any, dict[str, str], dict[str, str]] | None:
    """The values of ``refs/assistants/*`` read from the common git directory: loose refs
    read from their files, packed ones from ``packed-refs``; with an identity that changes
    whenever any of them does. None when gitassist cannot read them itself (a symbolic or
    damaged loose ref, an unreadable file): the caller then asks libgit2."""
    gitdir = Path(store.common_dir)
    packed = _packed_refs(gitdir)
    if packed is None:
        return None
    stamp, values = packed
    checked = values if os.fspath(gitdir / "packed-refs") in _ALL_OURS else {}
    loose: dict[str, str] = {}
    top = gitdir / NAMESPACE
    for root, _dirs, files in os.walk(top):
        for file in files:
            if file.endswith(".lock"):
                continue
            full = Path(root) / file
            try:
                content = full.read_bytes().decode("ascii").strip()
                name = full.relative_to(gitdir).as_posix()
                name.encode("utf-8")
            except (OSError, UnicodeError):
                return None
            if not _HEX40.match(content):
                return None  # symbolic or damaged: libgit2 decides
            loose[name] = content
    if loose:
        values = {**values, **loose}
    return (stamp, tuple(sorted(loose.items()))), values, checked
