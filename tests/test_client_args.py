"""Wrong-typed arguments to the client's assistant methods are the SDK's 422
(``UnprocessableEntityError``, also gitassist's ``ValidationFailed``) naming the field, as the
server answers a body that fails its schema: never a raw pydantic ``ValidationError``,
``TypeError`` or ``AttributeError`` from deep inside, and nothing is written."""

from __future__ import annotations

import asyncio

import pytest
from langgraph_sdk import errors as sdk

import gitassist
from gitassist.errors import ValidationFailed

SECRET = "sk-live-0123456789abcdef0123456789abcdef"


def _calls(aid: str) -> list[tuple[str, str, dict]]:
    """(method, the field the error must name, keyword arguments)."""
    return [
        ("update", "name", {"assistant_id": aid, "name": 5}),
        ("update", "description", {"assistant_id": aid, "description": 5}),
        ("update", "metadata", {"assistant_id": aid, "metadata": [1]}),
        ("update", "metadata", {"assistant_id": aid, "metadata": "x"}),
        ("update", "context", {"assistant_id": aid, "context": [SECRET]}),
        ("update", "context", {"assistant_id": aid, "context": {"model_name": object()}}),
        ("update", "metadata", {"assistant_id": aid, "metadata": {"x": float("nan")}}),
        ("update", "config", {"assistant_id": aid, "config": 5}),
        ("update", "graph_id", {"assistant_id": aid, "graph_id": 5}),
        ("update", "assistant_id", {"assistant_id": 5}),
        ("get", "assistant_id", {"assistant_id": 5}),
        ("delete", "assistant_id", {"assistant_id": 5}),
        ("get_versions", "metadata", {"assistant_id": aid, "metadata": 5}),
        ("set_latest", "assistant_id", {"assistant_id": 5, "version": 1}),
        ("create", "graph_id", {"graph_id": 5}),
        ("create", "name", {"graph_id": "agent", "name": 5}),
        ("create", "metadata", {"graph_id": "agent", "metadata": 5}),
        ("create", "context", {"graph_id": "agent", "context": (1, 2)}),
        ("create", "assistant_id", {"graph_id": "agent", "assistant_id": 5}),
        ("create", "if_exists", {"graph_id": "agent", "if_exists": 5}),
        ("create", "if_exists", {"graph_id": "agent", "if_exists": "replace"}),
        ("search", "metadata", {"metadata": 5}),
        ("search", "name", {"name": 5}),
        ("search", "graph_id", {"graph_id": 5}),
        ("search", "select", {"select": "name"}),
        ("count", "metadata", {"metadata": 5}),
        ("count", "name", {"name": 5}),
    ]


def test_wrong_types_are_the_sdks_422_naming_the_field(make_repo):
    repo = make_repo()
    client = repo.client()
    aid = client.assistants.create("agent", name="Bot", context={"model_name": "echo"})[
        "assistant_id"
    ]
    before = repo.refs(), repo.git("rev-parse", "HEAD")
    for method, field, kwargs in _calls(aid):
        with pytest.raises(sdk.UnprocessableEntityError) as caught:
            getattr(client.assistants, method)(**kwargs)
        exc = caught.value
        assert isinstance(exc, ValidationFailed), (method, kwargs)
        assert exc.response.status_code == 422
        assert field in exc.message, (method, kwargs, exc.message)
        assert SECRET not in str(exc)
    assert (repo.refs(), repo.git("rev-parse", "HEAD")) == before


def test_the_async_client_checks_the_same(make_repo):
    repo = make_repo()
    client = gitassist.get_client(repo=repo.path)

    async def go() -> None:
        with pytest.raises(sdk.UnprocessableEntityError, match="name must be a string"):
            await client.assistants.create("agent", name=5)
        with pytest.raises(sdk.UnprocessableEntityError, match="metadata must be an object"):
            await client.assistants.search(metadata=[1])

    asyncio.run(go())
