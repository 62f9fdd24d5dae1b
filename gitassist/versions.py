"""Numbered versions and the active ("latest") version of each assistant, kept in refs.

Layout (see docs/refs.md)::

    refs/assistants/<id>/versions/<n>  -> annotated tag -> the commit that made version n
    refs/assistants/<id>/latest        -> "pointer" commit: tree of the active version's commit,
                                          first parent the previous pointer (a log of moves)
    refs/gitassist/applied             -> "apply" commit: records the branch commit applied

Tag and pointer messages end in a JSON object, so reading a version or the active version is
one object read plus one blob read: no tree walk, no history walk, whatever the repository's
size. Version tags never move, so version N resolves to the same content after a rebase or a
force-push, and all of it travels with ``git push``/``git fetch`` of ``refs/assistants/*``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import pygit2

from gitassist.env_config import valid_name
from gitassist.errors import BadRef, NotFound

if TYPE_CHECKING:
    from gitassist.store import Store

NAMESPACE = "refs/assistants"
APPLIED_REF = "refs/gitassist/applied"


def latest_ref(assistant_id: str) -> str:
    return f"{NAMESPACE}/{assistant_id}/latest"


def version_ref(assistant_id: str, number: int) -> str:
    return f"{NAMESPACE}/{assistant_id}/versions/{number}"


def env_ref(assistant_id: str, environment: str) -> str:
    """The pointer of ``assistant_id`` in a declared environment (see docs/environments.md)."""
    return f"{NAMESPACE}/{assistant_id}/env/{environment}"


def pointer_ref(assistant_id: str, environment: str | None) -> str:
    """``latest`` (``environment`` None) or that environment's pointer."""
    return latest_ref(assistant_id) if environment is None else env_ref(assistant_id, environment)


MAX_NUMBER = 10**9  # version numbers above this are not ours (and would make huge loops)
_HEX = re.compile(r"[0-9a-f]{40}\Z")
_NUMBER = re.compile(r"[1-9][0-9]{0,8}\Z")
BAD_REF_HINT = (
    "gitassist did not write this ref (forged, corrupt, or fetched with plain `git fetch`): "
    "inspect it with `git show REF`, remove it with `git update-ref -d REF`; "
    "`gitassist fetch` validates what it brings in"
)


def is_assistant_id(text: str) -> bool:
    """A canonical (lower-case, hyphenated) UUID, as documents and refs spell assistant ids."""
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


def parse_number(text: str) -> int | None:
    """A version number as a ref spells it: ASCII digits, no leading zero, at most 10**9."""
    return int(text) if _NUMBER.match(text) and int(text) <= MAX_NUMBER else None


RefKind = Literal["latest", "version", "applied", "env"]


def parse_ref(name: str) -> tuple[RefKind, str, int] | None:
    """``("latest", id, 0)``, ``("version", id, n)``, ``("applied", "", 0)``, ``("env", id,
    0)`` (the environment is :func:`env_name`), or None for a name that is not one of
    gitassist's refs."""
    if name == APPLIED_REF:
        return "applied", "", 0
    parts = name.split("/")
    if parts[:2] != ["refs", "assistants"] or len(parts) < 4 or not is_assistant_id(parts[2]):
        return None
    if len(parts) == 4 and parts[3] == "latest":
        return "latest", parts[2], 0
    if len(parts) == 5 and parts[3] == "versions":
        number = parse_number(parts[4])
        if number is not None:
            return "version", parts[2], number
    if len(parts) == 5 and parts[3] == "env" and valid_name(parts[4]) is None:
        return "env", parts[2], 0
    return None


def env_name(ref: str) -> str:
    """The environment of an ``env`` ref (see :func:`parse_ref`)."""
    return ref.rsplit("/", 1)[1]


def bad_ref(ref: str, why: str) -> BadRef:
    return BadRef(f"{ref}: {why}", hint=BAD_REF_HINT.replace("REF", ref.split(" ", 1)[0]))


def _str(data: dict[str, Any], key: str, ref: str, *, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise bad_ref(ref, f"its JSON has no string {key!r} (got {type(value).__name__})")
    return value


def _oid(data: dict[str, Any], key: str, ref: str) -> str:
    value = _str(data, key, ref)
    if not _HEX.match(value):
        raise bad_ref(ref, f"its JSON {key!r} is not an object id: {value[:50]!r}")
    return value


def _int(data: dict[str, Any], key: str, ref: str, *, default: int | None = None) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_ref(ref, f"its JSON {key!r} is not a whole number: {str(value)[:50]!r}")
    return value


def _number(data: dict[str, Any], key: str, ref: str, *, default: int | None = None) -> int:
    value = _int(data, key, ref, default=default)
    if not 1 <= value <= MAX_NUMBER:
        raise bad_ref(ref, f"its JSON {key!r} is not a version number: {value}")
    return value


def _ci(data: dict[str, Any], ref: str) -> dict[str, str]:
    value = data.get("ci", {})
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise bad_ref(ref, "its JSON 'ci' is not an object of strings")
    return value


def _record_data(message: str, ref: str) -> dict[str, Any]:
    _, data = split_message(message)
    if not data:
        raise bad_ref(ref, "its message holds no gitassist JSON record")
    return data


def iso(timestamp: int | float) -> str:
    """ISO-8601 UTC with microseconds, as the LangGraph API writes timestamps."""
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat(timespec="microseconds")


def split_message(message: str) -> tuple[str, dict[str, Any]]:
    """A gitassist message: a summary, a blank line, and a JSON object."""
    summary, _, body = message.partition("\n\n")
    start = body.find("{")
    try:
        data = json.loads(body[start:]) if start >= 0 else {}
    except (json.JSONDecodeError, RecursionError):
        data = {}
    return summary, data if isinstance(data, dict) else {}


def join_message(summary: str, data: dict[str, Any]) -> str:
    return f"{summary}\n\n{json.dumps(data, sort_keys=True, indent=2)}\n"


@dataclass(frozen=True)
class VersionRecord:
    """One recorded version: where its document is and who recorded it."""

    assistant_id: str
    version: int
    commit: str
    path: str
    blob: str
    committed_at: int
    author: str
    recorded_by: str
    recorded_at: int
    tag: str
    reason: str = ""
    ci: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LatestState:
    """What ``refs/assistants/<id>/latest`` says."""

    assistant_id: str
    pointer: str  # the pointer commit
    version: int
    max_version: int
    tag: str
    commit: str
    path: str
    blob: str
    deleted: bool
    moved_at: int
    moved_by: str
    reason: str
    previous: int | None
    ci: dict[str, str] = field(default_factory=dict)
    environment: str | None = None  # None: the latest pointer


def sig_text(sig: pygit2.Signature) -> str:
    return f"{sig.name} <{sig.email}>"


def read_version(store: Store, assistant_id: str, number: int) -> VersionRecord | None:
    ref = version_ref(assistant_id, number)
    oid = store.refdb.read(ref)
    if oid is None:
        return None
    return store.by_object(  # a tag never changes: read once (a refusal is not kept)
        ("tag", oid, assistant_id, number),
        lambda: record_from_tag(store, oid, ref, assistant_id=assistant_id, number=number),
    )


def record_from_tag(
    store: Store,
    oid: str,
    ref: str | None = None,
    *,
    assistant_id: str | None = None,
    number: int | None = None,
) -> VersionRecord:
    """The version record in tag ``oid``; :class:`BadRef` (naming ``ref``) if it is not one
    gitassist wrote, or disagrees with the ref's name (id, number)."""
    where = ref or oid[:12]
    tag = store.repo.get(oid)
    if not isinstance(tag, pygit2.Tag):
        raise bad_ref(where, f"{oid[:12]} is not a gitassist version tag")
    data = _record_data(tag.message, where)
    record_id = _str(data, "assistant_id", where)
    version = _number(data, "version", where)
    commit = _oid(data, "commit", where)
    if assistant_id is not None and record_id != assistant_id:
        raise bad_ref(where, f"its tag records assistant {record_id[:40]!r}, not {assistant_id}")
    if number is not None and version != number:
        raise bad_ref(where, f"its tag records version {version}, not {number}")
    if str(tag.target) != commit:
        raise bad_ref(where, f"its tag points at {str(tag.target)[:12]}, its JSON at {commit[:12]}")
    blob = _oid(data, "blob", where)
    path = _str(data, "path", where)
    if not holds_document(store, commit, path, blob):
        raise bad_ref(
            where,
            f"its commit {commit[:12]} does not hold the document it records ({path[:200]!r})",
        )
    tagger = tag.tagger
    return VersionRecord(
        assistant_id=record_id,
        version=version,
        commit=commit,
        path=path,
        blob=blob,
        committed_at=_int(data, "committed_at", where, default=0),
        author=_str(data, "author", where, default=""),
        recorded_by=sig_text(tagger) if tagger else "",
        recorded_at=tagger.time if tagger else 0,
        tag=oid,
        reason=_str(data, "reason", where, default=""),
        ci=_ci(data, where),
    )


def holds_document(store: Store, commit: str, path: str, blob: str) -> bool:
    """Whether ``commit``'s tree has ``blob`` at ``path`` (what a version tag claims)."""
    key = ("holds", commit, path, blob)  # a yes is kept (a write knows it for its commit)
    if store.kept(key):
        return True
    obj = store.repo.get(commit)
    if not isinstance(obj, pygit2.Commit):
        return False
    try:
        entry = obj.tree[path]
    except (KeyError, ValueError):
        return False
    if str(entry.id) == blob:
        store.keep(key, True)
    return str(entry.id) == blob


def recorded_between(
    store: Store,
    assistant_id: str,
    number: int,
    path: str | None,
    base: pygit2.Commit,
    head: pygit2.Commit,
) -> bool:
    """Whether version ``number`` records ``path`` as ``head`` has it, made from a commit after
    ``base`` (``create``/``update`` on the tracked branch record as they commit): a review of
    ``base..head`` then shows that version as recorded, not as the next one."""
    record = read_version(store, assistant_id, number) if number and path else None
    if record is None or record.path != path or path is None:
        return False
    try:
        if str(head.tree[path].id) != record.blob:
            return False
    except KeyError:
        return False
    repo, made = store.repo, pygit2.Oid(hex=record.commit)
    if repo.get(made) is None:
        return False  # a commit this (shallow) clone does not have
    after_base = made != base.id and not repo.descendant_of(base.id, made)
    return after_base and (made == head.id or repo.descendant_of(head.id, made))


def recorded_latest(store: Store, assistant_id: str) -> LatestState:
    """What latest says, for a move of it (``set_latest``, ``promote``): NotFound when the
    assistant has no recorded version. A deleted one is returned: each caller says why not."""
    state = read_latest(store, assistant_id)
    if state is None:
        raise NotFound(
            f"assistant {assistant_id} has no recorded versions",
            hint="record one first (gitassist apply)",
        )
    return state


def read_latest(
    store: Store, assistant_id: str, environment: str | None = None
) -> LatestState | None:
    """What latest (or ``environment``'s pointer) says; None when the ref does not exist."""
    ref = pointer_ref(assistant_id, environment)
    oid = store.refdb.read(ref)
    if oid is None:
        return None
    return store.by_object(  # a pointer commit never changes: read once
        ("pointer", oid, assistant_id, environment),
        lambda: latest_from_pointer(
            store, oid, ref, assistant_id=assistant_id, environment=environment
        ),
    )


def latest_from_pointer(
    store: Store,
    oid: str,
    ref: str | None = None,
    *,
    assistant_id: str | None = None,
    environment: str | None = None,
) -> LatestState:
    """The state in pointer commit ``oid``; :class:`BadRef` (naming ``ref``) if it is not a
    pointer gitassist wrote for ``assistant_id`` (and, for an environment's pointer, for
    ``environment``: another environment's pointer commit is refused)."""
    where = ref or oid[:12]
    commit = store.repo.get(oid)
    if not isinstance(commit, pygit2.Commit):
        raise bad_ref(where, f"{oid[:12]} is not a gitassist pointer commit")
    data = _record_data(commit.message, where)
    record_id = _str(data, "assistant_id", where)
    if assistant_id is not None and record_id != assistant_id:
        raise bad_ref(
            where, f"its pointer records assistant {record_id[:40]!r}, not {assistant_id}"
        )
    version = _number(data, "version", where)
    top = _number(data, "max_version", where, default=version)
    if top < version:
        raise bad_ref(where, f"its pointer's max_version {top} is below its version {version}")
    previous = data.get("previous")
    if previous is not None:
        previous = _number(data, "previous", where)
    deleted = data.get("deleted", False)
    if not isinstance(deleted, bool):
        raise bad_ref(where, "its JSON 'deleted' is not true or false")
    recorded_env = data.get("environment")
    if environment is not None and recorded_env != environment:
        raise bad_ref(
            where, f"its pointer records environment {str(recorded_env)[:40]!r}, not {environment}"
        )
    return LatestState(
        assistant_id=record_id,
        pointer=oid,
        version=version,
        max_version=top,
        tag=_oid(data, "tag", where),
        commit=_oid(data, "commit", where),
        path=_str(data, "path", where),
        blob=_oid(data, "blob", where),
        deleted=deleted,
        moved_at=commit.committer.time,
        moved_by=sig_text(commit.committer),
        reason=_str(data, "reason", where, default=""),
        previous=previous,
        ci=_ci(data, where),
        environment=environment,
    )


def max_version(store: Store, assistant_id: str, latest: LatestState | None = None) -> int:
    """Highest recorded version number (0 if none); robust to a pointer that lags behind."""
    latest = latest if latest is not None else read_latest(store, assistant_id)
    number = latest.max_version if latest is not None else 0
    while store.refdb.read(version_ref(assistant_id, number + 1)) is not None:
        number += 1
    return number


def latest_history(
    store: Store,
    assistant_id: str,
    limit: int | None = None,
    *,
    environment: str | None = None,
    start: str | None = None,
) -> list[LatestState]:
    """Every move of the latest pointer (or of ``environment``'s), newest first (the pointer
    commits' first parents); ``start``: from this pointer commit instead of the ref's."""
    ref = pointer_ref(assistant_id, environment)
    oid = start if start is not None else store.refdb.read(ref)
    out: list[LatestState] = []
    while oid is not None and (limit is None or len(out) < limit):
        where = ref if not out else f"{ref} (move {oid[:12]})"
        state = latest_from_pointer(
            store, oid, where, assistant_id=assistant_id, environment=environment
        )
        out.append(state)
        commit = store.repo.get(oid)
        parents: list[pygit2.Oid] = (
            list(commit.parent_ids) if isinstance(commit, pygit2.Commit) else []
        )
        oid = str(parents[0]) if parents else None
    return out


def applied_fields(commit: pygit2.Commit) -> tuple[str | None, dict[str, dict[str, str]]]:
    """The branch commit and the absent map an apply-record commit holds (BadRef if it is not
    one gitassist wrote)."""
    _, data = split_message(commit.message)
    applied, absent = data.get("commit"), data.get("absent", {})
    if not data or not (applied is None or (isinstance(applied, str) and len(applied) == 40)):
        raise bad_ref(APPLIED_REF, "its commit holds no gitassist apply record")
    if not isinstance(absent, dict) or not all(isinstance(v, dict) for v in absent.values()):
        raise bad_ref(APPLIED_REF, "its apply record's 'absent' is not an object of objects")
    return applied, absent
