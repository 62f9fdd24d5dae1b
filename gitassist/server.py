"""The connection to a LangGraph Server: where it is, its API key, retries and a request count.

:func:`connect` wraps the official SDK client in :class:`Remote`, which retries transient
failures (connection errors, timeouts, 429 and 5xx answers) with backoff and jitter, never
repeats a write that landed, pages through listings, and counts every HTTP request and write.
:func:`resolve_target` turns a URL or a deployment named in gitassist.yaml into a
:class:`Target`. langgraph_sdk and httpx are imported only when a connection is made.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gitassist.errors import ConfigError, RemoteError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from gitassist.store import Store

API_KEY_ENVS = ("LANGSMITH_API_KEY", "LANGGRAPH_API_KEY")
MAX_PAGE = 1000  # the server refuses search limits above 1000


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

        def page(offset: int) -> list[dict[str, Any]]:
            return list(
                self.call(
                    self.client.assistants.search,
                    limit=page_size,
                    offset=offset,
                    sort_by="assistant_id",
                    sort_order="asc",
                )
            )

        return _all_pages(page, page_size)

    def by_id(self, page_size: int = MAX_PAGE) -> dict[str, dict[str, Any]]:
        """Every assistant on the server by id; RemoteError when it cannot be listed."""
        try:
            return {str(a["assistant_id"]): a for a in self.list_assistants(page_size)}
        except Exception as exc:
            raise _remote_error(self, exc) from exc

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

        def page(offset: int) -> list[dict[str, Any]]:
            try:
                return list(
                    self.call(
                        self.client.assistants.get_versions,
                        assistant_id,
                        limit=page_size,
                        offset=offset,
                    )
                )
            except Exception as exc:
                if status_of(exc) == 404 and offset > 0:
                    return []
                raise

        return _all_pages(page, page_size)

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


def _all_pages(page: Callable[[int], list[dict[str, Any]]], page_size: int) -> list[dict[str, Any]]:
    """``page(offset)`` from offset 0 on, until a page comes back short."""
    out: list[dict[str, Any]] = []
    offset = 0
    while True:
        found = page(offset)
        out.extend(found)
        if len(found) < page_size:
            return out
        offset += page_size


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
            hint="pip install 'langgraph-gitassist[server]'",
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
