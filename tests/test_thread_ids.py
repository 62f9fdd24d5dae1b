"""Thread and run ids are UUIDs, as the server requires: the CLI refuses another with exit 2
and a one-line error, the client with the server's status and message (measured against
`langgraph dev`; tests/conformance runs the oracle); nothing is created."""

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


MUST = "Invalid thread ID: must be a UUID"
BADLY = "badly formed hexadecimal UUID string"
RUN = "Invalid run ID: must be a UUID"


def _calls(client):
    """(status, message, call): the server's answers, measured against `langgraph dev`."""
    t, r = client.threads, client.runs
    return [
        (422, MUST, lambda: t.get(BAD)),
        (422, MUST, lambda: t.create(thread_id=BAD)),
        (422, MUST, lambda: t.update(BAD, metadata={})),
        (422, MUST, lambda: t.delete(BAD)),
        (400, BADLY, lambda: t.copy(BAD)),
        (422, MUST, lambda: t.get_state(BAD)),
        (422, MUST, lambda: t.get_history(BAD)),
        (422, MUST, lambda: t.update_state(BAD, {})),
        (400, BADLY, lambda: r.wait(BAD, "agent", input={})),
        (400, BADLY, lambda: list(r.stream(BAD, "agent", input={}))),
        (422, "Invalid thread ID", lambda: r.create(BAD, "agent", input={})),
        (422, MUST, lambda: r.list(BAD)),
        (422, MUST, lambda: r.get(BAD, GOOD)),
        (422, RUN, lambda: r.get(GOOD, BAD)),
        (422, RUN, lambda: r.join(GOOD, BAD)),
        (422, RUN, lambda: r.cancel(GOOD, BAD)),
        (422, RUN, lambda: r.delete(GOOD, BAD)),
        (422, RUN, lambda: list(r.join_stream(GOOD, BAD))),
    ]


def test_the_client_answers_as_the_server(make_repo):
    client = make_repo().client()
    for status, message, call in _calls(client):
        error = sdk.BadRequestError if status == 400 else sdk.UnprocessableEntityError
        with pytest.raises(error) as caught:
            call()
        assert isinstance(caught.value, ValidationFailed)
        assert caught.value.response.status_code == status
        assert caught.value.message == message
    assert client.threads.search() == []
