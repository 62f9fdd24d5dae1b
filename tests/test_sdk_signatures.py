"""The client's methods take the installed langgraph_sdk's parameters: names, kinds, defaults.

The SDK's signatures are read at test time, so the next SDK release shows what to follow.
gitassist's own parameters must be keyword-only and listed in ``sdk_compat.EXTRAS``.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import gitassist
from gitassist import client as ga
from gitassist.sdk_compat import EXTRAS, TRANSPORT

sdk = pytest.importorskip("langgraph_sdk.client")

SCOPE = {
    "assistants": [
        "create",
        "get",
        "update",
        "delete",
        "search",
        "count",
        "get_versions",
        "set_latest",
        "get_schemas",
        "get_graph",
        "get_subgraphs",
    ],
    "threads": [
        "create",
        "get",
        "update",
        "delete",
        "search",
        "count",
        "copy",
        "get_state",
        "update_state",
        "get_history",
    ],
    "runs": ["stream", "wait", "create", "join", "join_stream", "cancel", "list", "get", "delete"],
}
PAIRS = {  # group: ((sdk async, ours async), (sdk sync, ours sync))
    "assistants": (
        (sdk.AssistantsClient, ga.AssistantsClient),
        (sdk.SyncAssistantsClient, ga.SyncAssistantsClient),
    ),
    "threads": (
        (sdk.ThreadsClient, ga.ThreadsClient),
        (sdk.SyncThreadsClient, ga.SyncThreadsClient),
    ),
    "runs": ((sdk.RunsClient, ga.RunsClient), (sdk.SyncRunsClient, ga.SyncRunsClient)),
}
CASES = [
    (group, method, flavour, theirs, ours)
    for group, methods in SCOPE.items()
    for method in methods
    for flavour, (theirs, ours) in zip(("async", "sync"), PAIRS[group], strict=True)
]


def _params(fn: Any) -> list[inspect.Parameter]:
    return [p for p in inspect.signature(fn).parameters.values() if p.name != "self"]


def _compare(theirs: list[inspect.Parameter], ours: list[inspect.Parameter], where: str) -> None:
    mine = {p.name: p for p in ours}
    for p in theirs:
        assert p.name in mine, f"{where}: the SDK's parameter {p.name!r} is missing"
        q = mine[p.name]
        assert q.kind == p.kind, f"{where}: {p.name} is {q.kind.name}, the SDK's {p.kind.name}"
        assert q.default == p.default, f"{where}: {p.name} defaults to {q.default!r}"
    positional = [p.name for p in theirs if p.kind is not p.KEYWORD_ONLY]
    assert [p.name for p in ours if p.kind is not p.KEYWORD_ONLY] == positional, where
    extras = {p.name for p in ours} - {p.name for p in theirs}
    for name in extras:
        assert mine[name].kind is inspect.Parameter.KEYWORD_ONLY, f"{where}: {name} not kw-only"
    assert extras <= set(EXTRAS.get(where.split(" ", maxsplit=1)[0], ())), (
        f"{where}: unlisted {extras}"
    )
    assert not any(p.kind is p.VAR_KEYWORD for p in ours), f"{where}: a catch-all **kwargs"


@pytest.mark.parametrize(("group", "method", "flavour", "theirs", "ours"), CASES)
def test_signature_matches_the_sdk(group, method, flavour, theirs, ours):
    _compare(
        _params(getattr(theirs, method)),
        _params(getattr(ours, method)),
        f"{group}.{method} ({flavour})",
    )


@pytest.mark.parametrize(("group", "method", "flavour", "theirs", "ours"), CASES)
def test_async_methods_are_real_async_methods(group, method, flavour, theirs, ours):
    if flavour == "sync":
        return
    fn = getattr(ours, method)
    sdk_fn = getattr(theirs, method)
    assert method in dir(ours)
    assert inspect.iscoroutinefunction(fn) == inspect.iscoroutinefunction(sdk_fn), method
    assert inspect.isasyncgenfunction(sdk_fn) <= (
        inspect.isasyncgenfunction(fn) or "AsyncIterator" in str(inspect.signature(fn))
    )


@pytest.mark.parametrize("name", ["get_client", "get_sync_client"])
def test_get_client_takes_the_sdks_transport_settings(name):
    theirs = inspect.signature(getattr(sdk, name)).parameters
    ours = inspect.signature(getattr(gitassist, name)).parameters
    for p in theirs.values():
        assert p.name in ours and p.name in TRANSPORT
        assert ours[p.name].kind is p.KEYWORD_ONLY
    assert set(ours) - set(theirs) == set(EXTRAS[name])


def test_unknown_keyword_is_a_type_error(make_repo):
    client = make_repo().client()
    with pytest.raises(TypeError, match="contxt"):
        client.assistants.create("agent", contxt={"model_name": "echo"})
    assert client.assistants.count() == 1  # only the default assistant: nothing was created
    with pytest.raises(TypeError, match="bogus"):
        client.threads.create(bogus=1)
    with pytest.raises(TypeError, match="inptu"):
        client.runs.wait(None, "agent", inptu={})


def test_async_unknown_keyword_is_a_type_error(make_repo):
    client = gitassist.get_client(repo=make_repo().path)

    async def main() -> None:
        with pytest.raises(TypeError, match="contxt"):
            await client.assistants.create("agent", contxt={})
        async with client:
            assert (await client.assistants.get("agent"))["name"] == "agent"

    asyncio.run(main())


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda c: c.runs.wait(None, "agent", input={}, webhook="http://x"), "webhook"),
        (lambda c: c.runs.wait(None, "agent", input={}, after_seconds=3), "after_seconds"),
        (lambda c: list(c.runs.stream(None, "agent", feedback_keys=["k"])), "feedback_keys"),
        (lambda c: c.runs.wait(None, "agent", multitask_strategy="enqueue"), "multitask_strategy"),
        (lambda c: c.threads.create(ttl=60), "ttl"),
        (lambda c: c.threads.create(supersteps=[{}]), "supersteps"),
    ],
)
def test_unhonoured_parameter_raises_naming_it(make_repo, call, name):
    from gitassist.errors import ValidationFailed

    client = make_repo().client()
    with pytest.raises(ValidationFailed, match=f"{name}="):
        call(client)


def test_transport_parameters_are_accepted_and_ignored(make_repo):
    repo = make_repo()
    client = gitassist.get_sync_client(repo=repo.path, api_key="k", headers={"x": "y"}, timeout=3)
    got = client.assistants.get("agent", headers={"x-a": "1"}, params={"q": "1"})
    assert got["name"] == "agent"


def test_clients_close_and_are_context_managers(make_repo):
    repo = make_repo()
    with gitassist.get_sync_client(repo=repo.path) as client:
        client.threads.create()
    client.close()  # twice is fine
    assert hasattr(gitassist.get_client(repo=repo.path), "aclose")


def test_async_client_aclose(make_repo):
    client = gitassist.get_client(repo=make_repo().path)

    async def main() -> None:
        await client.threads.create()
        await client.aclose()

    asyncio.run(main())


USER_SCRIPT = """
from gitassist import get_client


async def main() -> None:
    client = get_client(repo=".")
    await client.assistants.create("agent", contxt={"model_name": "echo"})
    await client.runs.wait(None, "agent", inptu={})
"""


def test_mypy_strict_flags_a_misspelt_keyword(tmp_path: Path) -> None:
    script = tmp_path / "user_script.py"
    script.write_text(textwrap.dedent(USER_SCRIPT), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
        # the package as a user's site-packages would hold it (the editable finder hides it)
        env={**os.environ, "MYPYPATH": str(Path(gitassist.__file__).parent.parent)},
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert 'Unexpected keyword argument "contxt"' in proc.stdout, proc.stdout
    assert 'Unexpected keyword argument "inptu"' in proc.stdout, proc.stdout
