"""Keep a LangGraph Server deployment equal to git's latest versions: sync, drift, adopt.

The repository is the source of truth. For every assistant with a latest ref, :func:`sync`
makes the server's *active* version hold exactly the content of git's latest version
(graph_id, context, config, metadata, name, description), with the same ``assistant_id``:

- missing on the server: ``create`` it;
- already equal: nothing (no request that writes, so no spurious server version);
- the server holds that exact content in an older version (found through the stamps sync
  writes into metadata): ``set_latest`` to it ("re-pointed");
- otherwise: ``update`` with the whole content.

Everything sync writes carries stamps in its metadata (:data:`STAMP_VERSION`,
:data:`STAMP_COMMIT`, :data:`STAMP_ID`), so each server version can be traced to a git
version and commit. After writing, sync reads every written assistant back and, where the
server got it wrong (its ``set_latest`` does not restore ``context`` or ``graph_id``),
corrects it with an update of the exact content and reports that it did.

Comparisons normalise the server's quirks: it mirrors ``context`` into
``config.configurable``; it merges metadata, so a key git removed can only be set to null
(null and absent are treated alike); the SDK cannot send an empty description, so "" and
no description are treated alike.

Nothing here prints; the CLI (:mod:`gitassist.cli.deploy`) renders the reports.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from gitassist.errors import ConfigError, GitassistError, RemoteError, RepositoryError
from gitassist.project import default_assistant_id

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from pygit2 import Commit

    from gitassist.assistants import Resolved
    from gitassist.documents import AssistantDocument
    from gitassist.store import Store

STAMP_VERSION = "gitassist_version"
STAMP_COMMIT = "gitassist_commit"
STAMP_ID = "gitassist_assistant_id"
STAMPS = (STAMP_VERSION, STAMP_COMMIT, STAMP_ID)
API_KEY_ENVS = ("LANGSMITH_API_KEY", "LANGGRAPH_API_KEY")
MAX_PAGE = 1000  # the server refuses search limits above 1000
CONTENT_FIELDS = ("graph_id", "name", "description", "context", "config", "metadata")
CORRECTION_ROUNDS = 2


# --------------------------------------------------------------------------- the connection


@dataclass(frozen=True)
class Target:
    """Where to sync: a URL, and the deployment name it came from (if any)."""

    url: str
    name: str | None = None
    api_key_env: str | None = None


def resolve_target(store: Store, url_or_name: str) -> Target:
    """A URL as is, or a deployment named in gitassist.yaml's ``deployments``."""
    if "://" in url_or_name:
        return Target(url_or_name.rstrip("/"))
    for deployment in store.project.settings.deployments:
        if deployment.name == url_or_name:
            return Target(deployment.url.rstrip("/"), deployment.name, deployment.api_key_env)
    known = ", ".join(d.name for d in store.project.settings.deployments) or "none"
    raise ConfigError(
        f"{url_or_name!r} is neither a URL nor a deployment in gitassist.yaml",
        hint=f"pass http(s)://host:port, or one of the named deployments: {known}",
    )


def api_key_for(target: Target) -> str | None:
    """The deployment's own variable first, then LANGSMITH_API_KEY, then LANGGRAPH_API_KEY."""
    names = ((target.api_key_env,) if target.api_key_env else ()) + API_KEY_ENVS
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def parse_headers(items: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``("K:V", ...)`` as a dict; raises ConfigError on an item without a colon."""
    headers: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition(":")
        if not sep or not key.strip():
            raise ConfigError(f"--header {item!r} is not KEY:VALUE")
        headers[key.strip()] = value.strip()
    return headers


def _is_write(method: str, path: str) -> bool:
    if method in ("PATCH", "PUT", "DELETE"):
        return True
    return method == "POST" and (path.rstrip("/") == "/assistants" or path.endswith("/latest"))


class Remote:
    """The official SDK client with bounded retries and a count of HTTP requests.

    Transient failures (connection errors, timeouts, 429 and 5xx answers) are retried up to
    ``retries`` times with exponential backoff and jitter. A write is retried only after
    reading back that it did not already happen, so a retry never makes a second version.
    """

    def __init__(
        self,
        client: Any,
        url: str,
        *,
        retries: int = 4,
        backoff: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.url = url
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep
        self.requests = 0
        self.writes = 0
        self.retried = 0
        http = client.http.client
        hooks = dict(http.event_hooks)
        hooks["request"] = [*hooks.get("request", []), self._count]
        http.event_hooks = hooks

    def _count(self, request: Any) -> None:
        self.requests += 1
        if _is_write(request.method, request.url.path):
            self.writes += 1

    def close(self) -> None:
        self.client.http.client.close()

    def __enter__(self) -> Remote:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ------------------------------------------------------------------ retries

    def call(
        self, fn: Callable[..., Any], *args: Any, done: Callable[[], bool] | None = None, **kw: Any
    ) -> Any:
        """``fn(*args, **kw)`` with retries; ``done()`` says whether a failed write landed."""
        attempt = 0
        while True:
            try:
                return fn(*args, **kw)
            except Exception as exc:
                if not transient(exc) or attempt >= self.retries:
                    raise
            attempt += 1
            self.retried += 1
            delay = self.backoff * (2 ** (attempt - 1))
            self.sleep(min(delay, 5.0) * (0.5 + random.random() / 2))
            if done is not None and self._quietly(done):
                return None

    def _quietly(self, check: Callable[[], bool]) -> bool:
        try:
            return check()
        except Exception:
            return False

    # ------------------------------------------------------------------ reads

    def list_assistants(self, page_size: int = MAX_PAGE) -> list[dict[str, Any]]:
        """Every assistant on the server, page by page (the server pages 10 by default)."""
        page_size = max(1, min(page_size, MAX_PAGE))
        out: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = self.call(
                self.client.assistants.search,
                limit=page_size,
                offset=offset,
                sort_by="assistant_id",
                sort_order="asc",
            )
            out.extend(page)
            if len(page) < page_size:
                return out
            offset += page_size

    def get(self, assistant_id: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = self.call(self.client.assistants.get, assistant_id)
        except Exception as exc:
            if status_of(exc) == 404:
                return None
            raise
        return found

    def versions(self, assistant_id: str, page_size: int = MAX_PAGE) -> list[dict[str, Any]]:
        """Every version, newest first (an empty page after the first answers 404)."""
        out: list[dict[str, Any]] = []
        offset = 0
        while True:
            try:
                page = self.call(
                    self.client.assistants.get_versions,
                    assistant_id,
                    limit=page_size,
                    offset=offset,
                )
            except Exception as exc:
                if status_of(exc) == 404 and offset > 0:
                    return out
                raise
            out.extend(page)
            if len(page) < page_size:
                return out
            offset += page_size

    # ------------------------------------------------------------------ writes

    def create(self, payload: dict[str, Any]) -> Any:
        # if_exists="do_nothing": a retried create whose first attempt landed is no error
        return self.call(
            self.client.assistants.create,
            payload["graph_id"],
            config=payload["config"],
            context=payload["context"],
            metadata=payload["metadata"],
            assistant_id=payload["assistant_id"],
            if_exists="do_nothing",
            name=payload["name"],
            description=payload["description"],
        )

    def update(self, payload: dict[str, Any], done: Callable[[], bool]) -> Any:
        """PATCH the whole content. The SDK leaves a falsy description out and the server
        keeps the old one unless one is sent, so that case goes through the SDK's HTTP
        client with ``"description": ""``."""
        assistant_id = payload["assistant_id"]
        if payload["description"] in (None, ""):
            body = {k: v for k, v in payload.items() if k != "assistant_id"}
            body["description"] = ""
            path = f"/assistants/{assistant_id}"
            return self.call(self.client.http.patch, path, json=body, done=done)
        return self.call(
            self.client.assistants.update,
            assistant_id,
            graph_id=payload["graph_id"],
            config=payload["config"],
            context=payload["context"],
            metadata=payload["metadata"],
            name=payload["name"],
            description=payload["description"],
            done=done,
        )

    def set_latest(self, assistant_id: str, version: int, done: Callable[[], bool]) -> Any:
        return self.call(self.client.assistants.set_latest, assistant_id, version, done=done)

    def delete(self, assistant_id: str) -> None:
        try:
            self.call(
                self.client.assistants.delete,
                assistant_id,
                done=lambda: self.get(assistant_id) is None,
            )
        except Exception as exc:
            if status_of(exc) != 404:
                raise


def status_of(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    code = getattr(response, "status_code", None)
    return code if isinstance(code, int) else None


def transient(exc: BaseException) -> bool:
    """Connection errors, timeouts, 429 and 5xx: worth another try."""
    import httpx

    if isinstance(exc, httpx.TransportError):
        return True
    status = status_of(exc)
    return status is not None and (status >= 500 or status == 429)


def connect(
    url: str,
    *,
    api_key: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 60.0,
    retries: int = 4,
) -> Remote:
    """An SDK client for ``url`` wrapped in :class:`Remote`."""
    try:
        from langgraph_sdk import get_sync_client
    except ImportError:
        raise ConfigError(
            "syncing with a LangGraph Server needs the langgraph-sdk package",
            hint="pip install 'gitassist[server]'",
        ) from None
    client = get_sync_client(url=url, api_key=api_key, headers=dict(headers or {}), timeout=timeout)
    return Remote(client, url, retries=retries)


def connect_target(
    store: Store, url_or_name: str, headers: Mapping[str, str] | None = None
) -> Remote:
    target = resolve_target(store, url_or_name)
    return connect(target.url, api_key=api_key_for(target), headers=headers)


def _remote_error(remote: Remote, exc: Exception) -> RemoteError:
    status = status_of(exc)
    what = f"HTTP {status}" if status else type(exc).__name__
    detail = str(exc).splitlines()[0] if str(exc) else what
    return RemoteError(
        f"{remote.url}: {what}: {detail}",
        hint="check the URL, that the server is up, and the API key "
        "(LANGSMITH_API_KEY / LANGGRAPH_API_KEY or --header)",
    )


# --------------------------------------------------------------------------- content


@dataclass(frozen=True)
class FieldDiff:
    """One difference: a dotted path, git's value and the server's (``None``: absent)."""

    path: str
    git: Any
    server: Any


@dataclass(frozen=True)
class Stamp:
    """What sync wrote into an assistant's metadata."""

    version: int
    commit: str


@dataclass(frozen=True)
class Desired:
    """Git's latest version of one assistant, as the server should hold it."""

    resolved: Resolved

    @property
    def assistant_id(self) -> str:
        return self.resolved.assistant_id

    @property
    def version(self) -> int:
        return self.resolved.version or 1

    @property
    def commit(self) -> str:
        return self.resolved.commit or ""

    def content(self) -> dict[str, Any]:
        return git_content(self.resolved.document)

    def stamps(self) -> dict[str, Any]:
        return {STAMP_VERSION: self.version, STAMP_COMMIT: self.commit, STAMP_ID: self.assistant_id}

    def payload(self, server: dict[str, Any] | None) -> dict[str, Any]:
        """The whole content to send: nothing is left for the server to carry over."""
        content = self.content()
        metadata = {**content["metadata"], **self.stamps()}
        for key, value in ((server or {}).get("metadata") or {}).items():
            if key not in metadata and value is not None:
                metadata[key] = None  # the server merges metadata: null is how a key goes
        # "configurable": {} keeps the server from carrying the old config over when the
        # context is empty; with a context it mirrors the context into it itself
        config = {**content["config"], "configurable": {}}
        return {
            "assistant_id": self.assistant_id,
            "graph_id": content["graph_id"],
            "name": content["name"],
            "description": content["description"],
            "context": content["context"],
            "config": config,
            "metadata": metadata,
        }


def git_content(document: AssistantDocument) -> dict[str, Any]:
    data = document.canonical()
    return {
        "graph_id": data["graph_id"],
        "name": data["name"],
        "description": data["description"] or None,
        "context": data["context"],
        "config": data["config"],
        "metadata": {k: v for k, v in data["metadata"].items() if v is not None},
    }


def server_content(assistant: dict[str, Any]) -> dict[str, Any]:
    """The server's assistant as git would write it: quirks and stamps normalised away."""
    context = assistant.get("context") or {}
    config = dict(assistant.get("config") or {})
    configurable = config.pop("configurable", None)
    config = {k: v for k, v in config.items() if v not in (None, [])}
    if configurable and configurable != context:
        config["configurable"] = configurable  # runs may see these: a real difference
    metadata = {
        k: v
        for k, v in (assistant.get("metadata") or {}).items()
        if v is not None and k not in STAMPS
    }
    return {
        "graph_id": assistant.get("graph_id"),
        "name": assistant.get("name"),
        "description": assistant.get("description") or None,
        "context": context,
        "config": config,
        "metadata": metadata,
    }


def _key(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def same_content(git: dict[str, Any], server: dict[str, Any]) -> bool:
    return _key(git) == _key(server)


def diff_fields(git: Any, server: Any, prefix: str = "") -> list[FieldDiff]:
    """Field-level differences, recursing into mappings (lists compare whole)."""
    if isinstance(git, dict) and isinstance(server, dict):
        out: list[FieldDiff] = []
        for key in sorted(set(git) | set(server)):
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in server:
                out.append(FieldDiff(path, git[key], None))
            elif key not in git:
                out.append(FieldDiff(path, None, server[key]))
            else:
                out.extend(diff_fields(git[key], server[key], path))
        return out
    if _key(git) == _key(server):
        return []
    return [FieldDiff(prefix or "$", git, server)]


def stamp_of(assistant: dict[str, Any]) -> Stamp | None:
    """The gitassist stamp, when it is there and names this very assistant."""
    metadata = assistant.get("metadata") or {}
    version = metadata.get(STAMP_VERSION)
    if metadata.get(STAMP_ID) != assistant.get("assistant_id"):
        return None  # a copy made in Studio carries another assistant's stamp
    if not isinstance(version, int) or isinstance(version, bool):
        return None
    return Stamp(version, str(metadata.get(STAMP_COMMIT) or ""))


def is_default(assistant: dict[str, Any], graph_ids: set[str]) -> bool:
    """A graph's default assistant (the server makes one per graph)."""
    graph_id = str(assistant.get("graph_id") or "")
    if (assistant.get("metadata") or {}).get("created_by") == "system":
        return True
    return assistant.get("assistant_id") in {
        default_assistant_id(g) for g in {graph_id, *graph_ids}
    }


# --------------------------------------------------------------------------- git's side


@dataclass(frozen=True)
class GitState:
    """Git's latest version of every live assistant, and the ids git deleted."""

    desired: dict[str, Desired]
    deleted: dict[str, str]  # id -> name of its last version

    def knows(self, assistant_id: str) -> bool:
        return assistant_id in self.desired or assistant_id in self.deleted


def git_state(store: Store) -> GitState:
    """Every assistant with a latest ref (graphs' defaults only when a file configures them)."""
    from gitassist.assistants import from_latest, recorded_ids
    from gitassist.versions import read_latest

    desired: dict[str, Desired] = {}
    deleted: dict[str, str] = {}
    for assistant_id in sorted(recorded_ids(store)):
        state = read_latest(store, assistant_id)
        if state is None:
            continue
        resolved = from_latest(store, state)
        if state.deleted:
            deleted[assistant_id] = resolved.document.name
        else:
            desired[assistant_id] = Desired(resolved)
    return GitState(desired, deleted)


def _git_version_content(store: Store, assistant_id: str, number: int) -> dict[str, Any] | None:
    from gitassist.store import Entry
    from gitassist.versions import read_version

    record = read_version(store, assistant_id, number)
    if record is None:
        return None
    try:
        return git_content(store.document(Entry(record.path, record.blob)))
    except GitassistError:
        return None


# --------------------------------------------------------------------------- sync


@dataclass
class Item:
    """What sync did (or, in a dry run, would do) to one assistant."""

    assistant_id: str
    name: str
    action: str  # create | update | re-point | delete | none | skip
    result: str  # created | updated | re-pointed | deleted | unchanged | skipped | failed | planned
    reason: str = ""
    git_version: int | None = None
    server_version: int | None = None
    diff: list[FieldDiff] = field(default_factory=list)
    corrected: list[str] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SyncReport:
    """Per-assistant items and the HTTP cost of one sync."""

    url: str
    dry_run: bool
    prune: bool
    items: list[Item] = field(default_factory=list)
    requests: int = 0
    writes: int = 0
    retries: int = 0
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for item in self.items:
            out[item.result] = out.get(item.result, 0) + 1
            if item.corrected:
                out["corrected"] = out.get("corrected", 0) + 1
        return out

    @property
    def failed(self) -> list[Item]:
        return [i for i in self.items if i.result == "failed"]

    @property
    def changes(self) -> list[Item]:
        return [i for i in self.items if i.action in ("create", "update", "re-point", "delete")]

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "dry_run": self.dry_run,
            "prune": self.prune,
            "counts": self.counts(),
            "requests": self.requests,
            "writes": self.writes,
            "retries": self.retries,
            "seconds": round(self.seconds, 3),
            "assistants": [i.to_dict() for i in self.items],
        }


def _find_server_version(
    remote: Remote, desired: Desired, content: dict[str, Any]
) -> dict[str, Any] | None:
    """A server version stamped with git's version that holds exactly its content."""
    matches = [
        row
        for row in remote.versions(desired.assistant_id)
        if (stamp_of(row) or Stamp(-1, "")).version == desired.version
        and same_content(content, server_content(row))
    ]
    return max(matches, key=lambda r: int(r.get("version") or 0)) if matches else None


def _plan_one(
    remote: Remote, desired: Desired, server: dict[str, Any] | None
) -> tuple[Item, int | None]:
    """The action for one assistant, and the server version to re-point to (if any)."""
    name = desired.resolved.document.name
    content = desired.content()
    item = Item(desired.assistant_id, name, "none", "unchanged", git_version=desired.version)
    if server is None:
        item.action, item.reason = "create", "missing on the server"
        return item, None
    item.server_version = server.get("version")
    actual = server_content(server)
    if same_content(content, actual):
        item.reason = "in sync"
        return item, None
    item.diff = diff_fields(content, actual)
    found = _find_server_version(remote, desired, content)
    if found is not None:
        item.action = "re-point"
        item.reason = f"server version {found['version']} holds git version {desired.version}"
        return item, int(found["version"])
    item.action = "update"
    item.reason = _why(server, desired)
    return item, None


def _why(server: dict[str, Any], desired: Desired) -> str:
    stamp = stamp_of(server)
    if stamp is None:
        return "server version has no gitassist stamp"
    if stamp.version != desired.version:
        return f"server runs git version {stamp.version}, git's latest is {desired.version}"
    return "edited on the server since sync wrote it"


def _prune_item(
    assistant: dict[str, Any], git: GitState, graph_ids: set[str], prune: bool
) -> Item | None:
    assistant_id = str(assistant["assistant_id"])
    name = str(assistant.get("name") or "")
    if is_default(assistant, graph_ids):
        return None
    stamp = stamp_of(assistant)
    item = Item(assistant_id, name, "skip", "skipped", server_version=assistant.get("version"))
    deleted = assistant_id in git.deleted
    if stamp is None:
        item.reason = (
            "deleted in git, but the server's version has no gitassist stamp: left alone"
            if deleted
            else "not in git and not written by gitassist (created by hand): "
            "`gitassist adopt` brings it into git"
        )
        return item
    why = "deleted in git" if deleted else "not in git (stamped by gitassist)"
    if not prune:
        item.reason = f"{why}; sync --prune deletes it"
        return item
    item.action, item.reason = "delete", why
    return item


def sync(
    store: Store,
    remote: Remote,
    *,
    prune: bool = False,
    dry_run: bool = False,
    page_size: int = MAX_PAGE,
) -> SyncReport:
    """Make the server's active assistants equal git's latest versions; report per assistant."""
    started = time.perf_counter()
    requests0, writes0, retries0 = remote.requests, remote.writes, remote.retried
    report = SyncReport(remote.url, dry_run, prune)
    git = git_state(store)
    graph_ids = set(store.project.graphs)
    try:
        on_server = {str(a["assistant_id"]): a for a in remote.list_assistants(page_size)}
    except Exception as exc:
        raise _remote_error(remote, exc) from exc
    planned: list[tuple[Item, Desired | None, int | None]] = []
    for assistant_id, desired in git.desired.items():
        try:
            item, target = _plan_one(remote, desired, on_server.get(assistant_id))
        except Exception as exc:
            item = Item(assistant_id, desired.resolved.document.name, "update", "failed")
            item.error, target = _describe(exc), None
        planned.append((item, desired, target))
    for assistant_id, assistant in on_server.items():
        if assistant_id not in git.desired:
            prune_item = _prune_item(assistant, git, graph_ids, prune)
            if prune_item is not None:
                planned.append((prune_item, None, None))
    if dry_run:
        for item, _, _ in planned:
            if item.action in ("create", "update", "re-point", "delete"):
                item.result = "planned"
        report.items = [item for item, _, _ in planned]
    else:
        _execute(remote, planned, on_server, page_size)
        report.items = [item for item, _, _ in planned]
    report.items.sort(key=lambda i: (i.name.lower(), i.assistant_id))
    report.requests = remote.requests - requests0
    report.writes = remote.writes - writes0
    report.retries = remote.retried - retries0
    report.seconds = time.perf_counter() - started
    return report


def _describe(exc: Exception) -> str:
    status = status_of(exc)
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"HTTP {status}: {text}" if status else f"{type(exc).__name__}: {text}"


def _matches(remote: Remote, desired: Desired) -> Callable[[], bool]:
    def check() -> bool:
        found = remote.get(desired.assistant_id)
        return found is not None and same_content(desired.content(), server_content(found))

    return check


def _execute(
    remote: Remote,
    planned: list[tuple[Item, Desired | None, int | None]],
    on_server: dict[str, dict[str, Any]],
    page_size: int,
) -> None:
    written: list[tuple[Item, Desired]] = []
    for item, desired, target in planned:
        try:
            if item.action == "delete":
                remote.delete(item.assistant_id)
                item.result = "deleted"
            elif desired is None or item.action == "none":
                continue
            elif item.action == "create":
                remote.create(desired.payload(None))
                item.result = "created"
            elif item.action == "re-point":
                assert target is not None
                remote.set_latest(item.assistant_id, target, done=_matches(remote, desired))
                item.result = "re-pointed"
            elif item.action == "update":
                server = on_server.get(item.assistant_id)
                remote.update(desired.payload(server), done=_matches(remote, desired))
                item.result = "updated"
            if desired is not None and item.result != "failed":
                written.append((item, desired))
        except Exception as exc:
            item.result, item.error = "failed", _describe(exc)
    _verify_and_correct(remote, written, len(on_server), page_size)


def _read_back(
    remote: Remote, ids: list[str], server_size: int, page_size: int
) -> dict[str, dict[str, Any] | None]:
    """The written assistants as the server now has them: one GET each, or one listing."""
    pages = math.ceil((server_size + len(ids)) / max(1, min(page_size, MAX_PAGE)))
    if len(ids) > pages:
        listed = {str(a["assistant_id"]): a for a in remote.list_assistants(page_size)}
        return {i: listed.get(i) for i in ids}
    return {i: remote.get(i) for i in ids}


def _verify_and_correct(
    remote: Remote, written: list[tuple[Item, Desired]], server_size: int, page_size: int
) -> None:
    """Read every written assistant back; update with the exact content where it is wrong."""
    pending = written
    for round_ in range(CORRECTION_ROUNDS + 1):
        if not pending:
            return
        try:
            found = _read_back(remote, [d.assistant_id for _, d in pending], server_size, page_size)
        except Exception as exc:
            for item, _ in pending:
                item.result, item.error = "failed", f"could not read back: {_describe(exc)}"
            return
        wrong: list[tuple[Item, Desired]] = []
        for item, desired in pending:
            server = found.get(desired.assistant_id)
            if server is not None:
                item.server_version = server.get("version")
            if server is not None and same_content(desired.content(), server_content(server)):
                continue
            if round_ == CORRECTION_ROUNDS:
                item.result = "failed"
                item.error = "the server still differs from git after correcting it"
                continue
            bad = (
                ["missing"]
                if server is None
                else [d.path for d in diff_fields(desired.content(), server_content(server))]
            )
            item.corrected.extend(p for p in bad if p not in item.corrected)
            try:
                if server is None:
                    remote.create(desired.payload(None))
                else:
                    remote.update(desired.payload(server), done=_matches(remote, desired))
            except Exception as exc:
                item.result, item.error = "failed", f"correction failed: {_describe(exc)}"
                continue
            wrong.append((item, desired))
        pending = wrong


# --------------------------------------------------------------------------- drift


@dataclass
class DriftItem:
    """One assistant whose server state differs from git."""

    assistant_id: str
    name: str
    kind: str  # missing | edited | unstamped | outdated | unmanaged | deleted_in_git | orphaned
    detail: str
    git_version: int | None = None
    server_version: int | None = None
    stamp: int | None = None
    diff: list[FieldDiff] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DriftReport:
    url: str
    items: list[DriftItem] = field(default_factory=list)
    in_sync: int = 0
    requests: int = 0

    @property
    def drifted(self) -> bool:
        return bool(self.items)

    def to_dict(self) -> dict[str, Any]:
        kinds: dict[str, int] = {}
        for item in self.items:
            kinds[item.kind] = kinds.get(item.kind, 0) + 1
        return {
            "url": self.url,
            "drift": self.drifted,
            "in_sync": self.in_sync,
            "kinds": kinds,
            "requests": self.requests,
            "assistants": [i.to_dict() for i in self.items],
        }


def _drift_one(store: Store, desired: Desired, server: dict[str, Any] | None) -> DriftItem | None:
    name = desired.resolved.document.name
    item = DriftItem(desired.assistant_id, name, "missing", "", git_version=desired.version)
    if server is None:
        item.detail = "in git but not on the server (deleted there, or never synced)"
        return item
    content = desired.content()
    actual = server_content(server)
    if same_content(content, actual):
        return None
    stamp = stamp_of(server)
    item.server_version = server.get("version")
    item.stamp = stamp.version if stamp else None
    item.diff = diff_fields(content, actual)
    if stamp is None:
        item.kind = "unstamped"
        item.detail = (
            "the server's version was not written by gitassist (created or edited by hand)"
        )
        return item
    stamped = _git_version_content(store, desired.assistant_id, stamp.version)
    if stamped is not None and same_content(stamped, actual):
        item.kind = "outdated"
        item.detail = (
            f"the server runs git version {stamp.version}; git's latest is {desired.version}"
        )
        return item
    item.kind = "edited"
    item.detail = (
        f"edited on the server (Studio or API) after sync wrote git version {stamp.version}"
    )
    return item


def drift(store: Store, remote: Remote, *, page_size: int = MAX_PAGE) -> DriftReport:
    """Every difference between the server's active assistants and git's latest."""
    requests0 = remote.requests
    git = git_state(store)
    graph_ids = set(store.project.graphs)
    try:
        on_server = {str(a["assistant_id"]): a for a in remote.list_assistants(page_size)}
    except Exception as exc:
        raise _remote_error(remote, exc) from exc
    report = DriftReport(remote.url)
    for assistant_id, desired in git.desired.items():
        item = _drift_one(store, desired, on_server.get(assistant_id))
        if item is None:
            report.in_sync += 1
        else:
            report.items.append(item)
    for assistant_id, assistant in on_server.items():
        if assistant_id in git.desired or is_default(assistant, graph_ids):
            continue
        stamp = stamp_of(assistant)
        item = DriftItem(
            assistant_id,
            str(assistant.get("name") or ""),
            "unmanaged",
            "on the server only, not written by gitassist (created by hand)",
            server_version=assistant.get("version"),
            stamp=stamp.version if stamp else None,
        )
        if assistant_id in git.deleted:
            item.kind, item.detail = "deleted_in_git", "deleted in git, still on the server"
        elif stamp is not None:
            item.kind, item.detail = "orphaned", "written by gitassist but unknown to this git"
        report.items.append(item)
    report.items.sort(key=lambda i: (i.kind, i.name.lower(), i.assistant_id))
    report.requests = remote.requests - requests0
    return report


# --------------------------------------------------------------------------- adopt


@dataclass
class AdoptItem:
    assistant_id: str
    name: str
    result: str  # adopted | skipped | failed
    path: str | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class AdoptReport:
    url: str
    items: list[AdoptItem] = field(default_factory=list)
    commit: str | None = None
    branch: str | None = None
    recorded: bool = False
    requests: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "commit": self.commit,
            "branch": self.branch,
            "recorded": self.recorded,
            "requests": self.requests,
            "assistants": [i.to_dict() for i in self.items],
        }


def adopted_document(assistant: dict[str, Any]) -> AssistantDocument:
    """The server's assistant as a git document (stamps, nulls and mirrors dropped)."""
    from gitassist.documents import AssistantDocument, RunConfig

    content = server_content(assistant)
    config = {k: v for k, v in content["config"].items() if k != "configurable"}
    return AssistantDocument(
        assistant_id=str(assistant["assistant_id"]),
        graph_id=content["graph_id"],
        name=content["name"] or "Untitled",
        description=content["description"],
        context=content["context"],
        config=RunConfig.model_validate(config),
        metadata=content["metadata"],
    )


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "assistant"


def adopt(
    store: Store, remote: Remote, *, message: str | None = None, page_size: int = MAX_PAGE
) -> AdoptReport:
    """Write every server assistant git does not know into the repository, in one commit.

    Graphs' default assistants and assistants git deleted are skipped. On the tracked branch
    the commit is applied at once (versions and latest refs recorded), like ``create``.
    """
    from gitassist.assistants import schema_set, validate_entries
    from gitassist.plan import execute, index_at, make_plan

    requests0 = remote.requests
    try:
        on_server = remote.list_assistants(page_size)
    except Exception as exc:
        raise _remote_error(remote, exc) from exc
    report = AdoptReport(remote.url)
    graph_ids = set(store.project.graphs)
    git = git_state(store)
    with store.refdb.lock():
        branch, parent = _branch(store)
        tree = parent.tree if parent is not None else None
        in_tree = index_at(store, tree) if tree is not None else {}
        taken = set(store.entries(tree))
        schemas = schema_set(store, tree)
        changes: dict[str, str | None] = {}
        for assistant in sorted(on_server, key=lambda a: (str(a.get("name")), a["assistant_id"])):
            item = _adopt_one(store, assistant, git, graph_ids, set(in_tree), taken)
            if item is None:
                continue
            report.items.append(item)
            if item.result == "adopted" and item.path is not None:
                changes[item.path] = _adopt_text(store, assistant, item, schemas)
        changes = {p: t for p, t in changes.items() if t is not None}
        for item in report.items:
            if item.result == "adopted" and item.path not in changes:
                item.result = "failed"
        if not changes:
            report.requests = remote.requests - requests0
            return report
        dirty = [p for p in changes if (store.root / p).exists()]
        if dirty:
            raise RepositoryError(f"{', '.join(dirty)} already exists in the working tree")
        count = len(changes)
        msg = message or f"Adopt {count} assistant(s) from {remote.url}"
        commit = store.write_commit(branch, parent, changes, msg)
        report.commit, report.branch = str(commit.id), branch
        if branch == store.tracked_branch():
            plan = make_plan(store, head=commit, branch=branch, validator=validate_entries)
            execute(store, plan, reason="adopt")
            report.recorded = True
    report.requests = remote.requests - requests0
    return report


def _branch(store: Store) -> tuple[str, Commit | None]:
    branch = store.current_branch()
    if branch is None:
        raise RepositoryError(
            "HEAD is detached: adopt commits to a branch",
            hint="check out a branch first (git switch -c adopt-assistants)",
        )
    return branch, store.head_commit()


def _adopt_one(
    store: Store,
    assistant: dict[str, Any],
    git: GitState,
    graph_ids: set[str],
    in_tree: set[str],
    taken: set[str],
) -> AdoptItem | None:
    assistant_id = str(assistant["assistant_id"])
    name = str(assistant.get("name") or "Untitled")
    if is_default(assistant, graph_ids) or assistant_id in git.desired or assistant_id in in_tree:
        return None
    item = AdoptItem(assistant_id, name, "skipped")
    if assistant_id in git.deleted:
        item.reason = "deleted in git: left out"
        return item
    if assistant.get("graph_id") not in graph_ids:
        item.result = "failed"
        item.reason = f"graph {assistant.get('graph_id')!r} is not in langgraph.json"
        return item
    base = f"{store.assistants_dir}/{_slug(name)}"
    path, n = f"{base}.yaml", 2
    while path in taken or (store.root / path).exists():
        path, n = f"{base}-{n}.yaml", n + 1
    taken.add(path)
    item.result, item.path = "adopted", path
    return item


def _adopt_text(
    store: Store, assistant: dict[str, Any], item: AdoptItem, schemas: Any
) -> str | None:
    from gitassist.documents import render_new
    from gitassist.validation import document_problems

    try:
        doc = adopted_document(assistant)
    except Exception as exc:
        item.reason = f"cannot be written as a document: {exc}"
        return None
    schema_ref = f"../{store.project.settings.schemas_dir}/assistant.schema.json"
    text = render_new(doc, schema_ref=schema_ref)
    assert item.path is not None
    _, problems = document_problems(text, item.path, store.project, schemas)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        item.reason = "invalid: " + "; ".join(f"{p.json_path}: {p.message}" for p in errors[:3])
        return None
    item.reason = f"server version {assistant.get('version')}"
    return text


# --------------------------------------------------------------------------- plan lines


def plan_lines(report: SyncReport) -> list[str]:
    """Human lines for a sync report (dry run or done)."""
    lines = [f"Deployment {report.url}" + (" (dry run)" if report.dry_run else "")]
    verbs = {
        "create": "create",
        "update": "update",
        "re-point": "re-point",
        "delete": "delete",
    }
    for item in report.items:
        if item.action == "none":
            continue
        what = item.result if not report.dry_run or item.result == "failed" else "would"
        verb = verbs.get(item.action, item.action)
        head = f"{what} {verb}" if what == "would" else what
        line = f"  {head}: {item.name} ({item.assistant_id[:8]})"
        if item.reason:
            line += f": {item.reason}"
        if item.corrected:
            line += f" [corrected: {', '.join(item.corrected)}]"
        if item.error:
            line += f" [error: {item.error}]"
        lines.append(line)
        lines.extend(
            f"      {d.path}: {short_value(d.server)} -> {short_value(d.git)}" for d in item.diff
        )
    counts = report.counts()
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "nothing to do"
    lines.append(f"  {summary}; {report.requests} request(s), {report.writes} write(s)")
    return lines


def short_value(value: Any, limit: int = 60) -> str:
    text = "(absent)" if value is None else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def deployment_plan(store: Store, url: str, headers: Mapping[str, str] | None = None) -> SyncReport:
    """What ``sync`` would do to ``url`` (a URL or a deployment name): a dry run."""
    with connect_target(store, url, headers) as remote:
        return sync(store, remote, dry_run=True)
