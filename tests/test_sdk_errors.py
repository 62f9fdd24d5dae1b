"""Through the client, errors are both gitassist's and langgraph_sdk's (httpx status errors)."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import httpx
import pytest
from langgraph_sdk import errors as sdk

import gitassist
from gitassist.errors import Conflict, GitassistError, NotFound, ValidationFailed

MISSING = "00000000-0000-0000-0000-000000000000"


def test_not_found_is_the_sdks_404(make_repo):
    client = make_repo().client()
    with pytest.raises(sdk.NotFoundError) as caught:
        client.assistants.get(MISSING)
    exc = caught.value
    assert isinstance(exc, NotFound) and isinstance(exc, httpx.HTTPStatusError)
    assert exc.response.status_code == 404
    assert exc.status_code == 404
    assert set(exc.response.json()) == {"detail"}
    assert exc.response.json()["detail"] == exc.message
    assert exc.code == "not_found" and exc.exit_code == NotFound.exit_code


def test_conflict_is_the_sdks_409(make_repo):
    client = make_repo().client()
    made = client.assistants.create("agent", context={"model_name": "echo"})
    with pytest.raises(Conflict) as caught:
        client.assistants.create("agent", assistant_id=made["assistant_id"])
    assert isinstance(caught.value, sdk.ConflictError)
    assert caught.value.response.status_code == 409


def test_validation_is_the_sdks_422(make_repo):
    client = make_repo().client()
    with pytest.raises(sdk.UnprocessableEntityError) as caught:
        client.assistants.create("agent", context={"model_name": "gpt5"})
    assert isinstance(caught.value, ValidationFailed)
    assert caught.value.issues  # gitassist's detail survives
    for call in (
        lambda: client.assistants.search(sort_by="bogus"),
        lambda: client.assistants.search(limit=0),
        lambda: client.assistants.search(limit=2000),
    ):
        with pytest.raises(httpx.HTTPStatusError) as err:
            call()
        assert err.value.response.status_code == 422


def test_status_handler_pattern_works(make_repo):
    """The pattern SDK users write: catch HTTPStatusError, look at the status code."""
    client = make_repo().client()
    try:
        client.threads.get(MISSING)
    except httpx.HTTPStatusError as e:
        assert e.response.status_code == 404
    else:
        raise AssertionError("no error")


def test_stream_and_async_errors_are_translated(make_repo):
    repo = make_repo()
    sync = repo.client()
    with pytest.raises(sdk.NotFoundError):
        list(sync.runs.stream(MISSING, "agent", input={}))

    async def main() -> None:
        client = gitassist.get_client(repo=repo.path)
        with pytest.raises(sdk.NotFoundError):
            await client.assistants.get(MISSING)
        with pytest.raises(sdk.NotFoundError):
            async for _ in client.runs.stream(MISSING, "agent", input={}):
                pass
        with pytest.raises(sdk.NotFoundError):
            await client.runs.wait(MISSING, "agent", input={})

    asyncio.run(main())


def test_both_configurable_and_context_is_a_400(make_repo):
    client = make_repo().client()
    with pytest.raises(sdk.BadRequestError) as caught:
        client.assistants.create(
            "agent", config={"configurable": {"model_name": "echo"}}, context={"model_name": "x"}
        )
    assert caught.value.response.status_code == 400
    assert isinstance(caught.value, GitassistError)


def test_get_client_with_a_url_says_pass_repo():
    with pytest.raises(ValidationFailed) as caught:
        gitassist.get_client(url="https://my-deployment.example.com")
    assert "repo=" in str(caught.value.hint)
    assert "not in a git repository" not in str(caught.value)


def test_cli_start_up_does_not_import_httpx():
    code = (
        "import sys; from gitassist.cli.main import main; import gitassist.client;"
        "print('httpx' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
