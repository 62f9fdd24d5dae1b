"""Thread and run ids are UUIDs, as the server requires: the CLI refuses another with exit 2
and a one-line error, the client with the server's 422 and message; nothing is created."""

from __future__ import annotations

import json

import pytest
from langgraph_sdk import errors as sdk

from gitassist.errors import ExitCode, ValidationFailed

BAD = "not-a-uuid"
GOOD = "6f1c1c3e-0000-4000-8000-0000000000c1"


@pytest.mark.parametrize(
    "args",
    [
        ("run", "agent", "--thread", BAD, "--input", "{}"),
        ("run", "--thread", BAD, "--resume", "yes"),
        ("threads", "show", BAD),
        ("threads", "delete", BAD),
        ("threads", "create", "--id", BAD),
    ],
)
def test_the_cli_refuses_a_thread_id_that_is_not_a_uuid(make_repo, cli, args):
    repo = make_repo()
    result = cli(*args, "-C", str(repo.path), code=ExitCode.USAGE)
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: thread id 'not-a-uuid' is not a UUID"), result.stderr
    assert len(lines) <= 2
    assert (
        not (repo.path / ".gitassist" / "threads.sqlite").exists()
        or "no threads" in cli("threads", "list", "-C", str(repo.path)).output
    )
    as_json = cli(*args, "--json", "-C", str(repo.path), code=ExitCode.USAGE)
    assert json.loads(as_json.stderr)["error"] == "usage"


def _calls(client):
    t, r = client.threads, client.runs
    return [
        ("thread", lambda: t.get(BAD)),
        ("thread", lambda: t.create(thread_id=BAD)),
        ("thread", lambda: t.update(BAD, metadata={})),
        ("thread", lambda: t.delete(BAD)),
        ("thread", lambda: t.copy(BAD)),
        ("thread", lambda: t.get_state(BAD)),
        ("thread", lambda: t.get_history(BAD)),
        ("thread", lambda: t.update_state(BAD, {})),
        ("thread", lambda: r.wait(BAD, "agent", input={})),
        ("thread", lambda: list(r.stream(BAD, "agent", input={}))),
        ("thread", lambda: r.create(BAD, "agent", input={})),
        ("thread", lambda: r.list(BAD)),
        ("thread", lambda: r.get(BAD, GOOD)),
        ("run", lambda: r.get(GOOD, BAD)),
        ("run", lambda: r.join(GOOD, BAD)),
        ("run", lambda: r.cancel(GOOD, BAD)),
        ("run", lambda: r.delete(GOOD, BAD)),
        ("run", lambda: list(r.join_stream(GOOD, BAD))),
    ]


def test_the_client_answers_the_servers_422(make_repo):
    client = make_repo().client()
    for what, call in _calls(client):
        with pytest.raises(sdk.UnprocessableEntityError) as caught:
            call()
        assert isinstance(caught.value, ValidationFailed)
        assert caught.value.response.status_code == 422
        assert caught.value.message == f"Invalid {what} ID: must be a UUID"
    assert client.threads.search() == []
