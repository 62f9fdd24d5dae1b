"""A real ``langgraph dev`` server, driven through the official SDK."""

from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING

import pytest

try:  # tests/ as a plain directory (pytest's default rootdir-less import) ...
    from lgserver import DEFAULT_GRAPH_ID, Server, start_server, write_tiny_project
except ModuleNotFoundError:  # ... or as a package
    from tests.lgserver import DEFAULT_GRAPH_ID, Server, start_server, write_tiny_project

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.server

langgraph_sdk = pytest.importorskip("langgraph_sdk")

DEFAULT_ASSISTANT_NS = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("lgserver")
    project = write_tiny_project(base / "project")
    srv = start_server(project, log_path=base / "server.log")
    try:
        yield srv
    finally:
        srv.stop()


def test_default_assistant_has_uuid5_id(server: Server) -> None:
    client = langgraph_sdk.get_sync_client(url=server.url, api_key=None)
    expected = str(uuid.uuid5(DEFAULT_ASSISTANT_NS, DEFAULT_GRAPH_ID))
    assert expected == "fe096781-5601-53d2-b2f6-0d3403f7e9ca"

    assistant = client.assistants.get(expected)
    assert assistant["assistant_id"] == expected
    assert assistant["graph_id"] == DEFAULT_GRAPH_ID
    assert assistant["metadata"].get("created_by") == "system"
    assert assistant["version"] == 1

    found = client.assistants.search(graph_id=DEFAULT_GRAPH_ID, metadata={"created_by": "system"})
    assert [a["assistant_id"] for a in found] == [expected]


def test_create_with_given_id(server: Server) -> None:
    client = langgraph_sdk.get_sync_client(url=server.url, api_key=None)
    wanted = str(uuid.uuid4())
    created = client.assistants.create(
        DEFAULT_GRAPH_ID,
        assistant_id=wanted,
        context={"greeting": "ahoy"},
        name="pirate",
    )
    assert created["assistant_id"] == wanted
    assert created["graph_id"] == DEFAULT_GRAPH_ID
    assert created["context"] == {"greeting": "ahoy"}
    assert created["name"] == "pirate"
    assert created["version"] == 1
    assert client.assistants.get(wanted)["name"] == "pirate"


def test_run_stream_sees_context(server: Server) -> None:
    client = langgraph_sdk.get_sync_client(url=server.url, api_key=None)
    assistant = client.assistants.create(
        DEFAULT_GRAPH_ID, context={"greeting": "bonjour", "temperature": 0.5}, name="fr"
    )
    thread = client.threads.create()
    parts = list(
        client.runs.stream(
            thread["thread_id"],
            assistant["assistant_id"],
            input={"text": "monde"},
            stream_mode="updates",
        )
    )
    events = [p.event for p in parts]
    assert events[0] == "metadata", events
    assert "run_id" in parts[0].data
    updates = [p.data for p in parts if p.event == "updates"]
    assert updates, events
    respond = updates[0]["respond"]
    assert respond["reply"] == "bonjour monde"
    assert respond["seen_context"] == {"greeting": "bonjour", "temperature": 0.5}


def test_stop_kills_process(tmp_path: Path) -> None:
    project = write_tiny_project(tmp_path / "project")
    srv = start_server(project, log_path=tmp_path / "server.log")
    pid = srv.pid
    assert srv.is_running()
    assert _pid_alive(pid)
    assert srv.startup_seconds > 0
    srv.stop()
    assert not srv.is_running()
    assert not _pid_alive(pid)
    srv.stop()  # idempotent


def test_busy_port_is_followed(tmp_path: Path, server: Server) -> None:
    """Asking for a busy port: the server moves elsewhere and we report where."""
    project = write_tiny_project(tmp_path / "project")
    with start_server(project, port=server.port, log_path=tmp_path / "server.log") as other:
        assert other.requested_port == server.port
        assert other.port != server.port
        client = langgraph_sdk.get_sync_client(url=other.url, api_key=None)
        default_id = str(uuid.uuid5(DEFAULT_ASSISTANT_NS, DEFAULT_GRAPH_ID))
        assert client.assistants.get(default_id)["graph_id"] == DEFAULT_GRAPH_ID
    assert not _pid_alive(other.pid)
