"""The assistant lifecycle through the SDK-shaped client, on real git repositories."""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest

from gitassist import NotFound, get_client
from gitassist.project import default_assistant_id

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")
API_KEYS = {
    "assistant_id",
    "graph_id",
    "config",
    "context",
    "metadata",
    "name",
    "description",
    "created_at",
    "updated_at",
    "version",
}


def test_seed_example_verbatim_against_async_client(make_repo):
    """The docs' example, with only the get_client line changed."""
    repo = make_repo()

    async def main() -> tuple[dict, dict, dict, dict]:
        client = get_client(repo=repo.path)
        openai_assistant = await client.assistants.create(
            "agent", context={"model_name": "openai"}, name="Open AI Assistant"
        )
        openai_assistant_v2 = await client.assistants.update(
            openai_assistant["assistant_id"],
            context={"model_name": "openai", "system_prompt": "You are an unhelpful assistant!"},
        )
        await client.assistants.set_latest(openai_assistant["assistant_id"], 1)
        active = await client.assistants.get(openai_assistant["assistant_id"])
        return (
            openai_assistant,
            openai_assistant_v2,
            active,
            await client.assistants.get(openai_assistant["assistant_id"]),
        )

    v1, v2, active, _ = asyncio.run(main())
    assert set(v1) == API_KEYS and ISO.match(v1["created_at"])
    assert v1["version"] == 1 and v1["context"] == {"model_name": "openai"}
    assert v2["version"] == 2
    assert v2["context"] == {
        "model_name": "openai",
        "system_prompt": "You are an unhelpful assistant!",
    }
    # rollback restores context and graph too (the real server does not)
    assert active["version"] == 1
    assert active["context"] == {"model_name": "openai"}
    assert active["graph_id"] == "agent"
    assert active["name"] == "Open AI Assistant"


def test_versions_are_commits_and_refs(make_repo):
    repo = make_repo()
    client = repo.client()
    a = client.assistants.create("agent", context={"model_name": "echo"}, name="Bot")
    aid = a["assistant_id"]
    client.assistants.update(aid, context={"model_name": "openai"})
    refs = repo.refs()
    assert f"refs/assistants/{aid}/versions/1" in refs
    assert f"refs/assistants/{aid}/versions/2" in refs
    # version 2's ref peels to the branch commit that made it
    v2_commit = repo.git("rev-parse", f"refs/assistants/{aid}/versions/2^{{commit}}")
    assert v2_commit == repo.git("rev-parse", "main")
    # the file at that commit is the document
    assert "openai" in repo.git("show", f"{v2_commit}:assistants/bot.yaml")
    # latest shows in git log as a chain of moves
    assert "latest -> version 2" in repo.git(
        "log", "-1", "--format=%s", f"refs/assistants/{aid}/latest"
    )
    # no refs/tags pollution
    assert not [r for r in refs if r.startswith("refs/tags/")]
    assert repo.git("status", "--porcelain") == ""


def test_identical_update_makes_no_commit_and_no_version(make_repo):
    repo = make_repo()
    client = repo.client()
    a = client.assistants.create("agent", context={"model_name": "echo"}, name="Bot")
    head = repo.git("rev-parse", "HEAD")
    again = client.assistants.update(a["assistant_id"], context={"model_name": "echo"})
    assert again["version"] == 1
    assert repo.git("rev-parse", "HEAD") == head
    assert len(client.assistants.get_versions(a["assistant_id"])) == 1


def test_update_replaces_context_and_merges_metadata(make_repo):
    client = make_repo().client()
    a = client.assistants.create(
        "agent",
        context={"model_name": "echo", "system_prompt": "x"},
        metadata={"team": "a", "tier": 1},
        name="Bot",
    )
    b = client.assistants.update(
        a["assistant_id"], context={"model_name": "openai"}, metadata={"tier": 2}
    )
    assert b["context"] == {"model_name": "openai"}  # no merge of context
    assert b["metadata"] == {"team": "a", "tier": 2}  # metadata merged one level
    assert b["name"] == "Bot"  # carried over


def test_set_latest_sticks_and_next_update_is_max_plus_one(make_repo):
    client = make_repo().client()
    aid = client.assistants.create("agent", context={"model_name": "echo"}, name="B")[
        "assistant_id"
    ]
    for prompt in ("one", "two"):
        client.assistants.update(aid, context={"model_name": "echo", "system_prompt": prompt})
    client.assistants.set_latest(aid, 1)
    assert client.assistants.get(aid)["version"] == 1
    new = client.assistants.update(aid, context={"model_name": "openai"})
    assert new["version"] == 4
    assert [v["version"] for v in client.assistants.get_versions(aid)] == [4, 3, 2, 1]


def test_get_versions_paging_and_rows(make_repo):
    client = make_repo().client()
    aid = client.assistants.create("agent", context={"model_name": "echo"}, name="B")[
        "assistant_id"
    ]
    for i in range(4):
        client.assistants.update(aid, context={"model_name": "echo", "system_prompt": str(i)})
    rows = client.assistants.get_versions(aid, limit=2, offset=1)
    assert [r["version"] for r in rows] == [4, 3]
    assert "updated_at" not in rows[0]
    assert rows[0]["context"]["system_prompt"] == "2"


def test_default_assistant_by_graph_id(make_repo):
    client = make_repo().client()
    default = client.assistants.get("agent")
    assert default["assistant_id"] == default_assistant_id("agent")
    assert default["assistant_id"] == "fe096781-5601-53d2-b2f6-0d3403f7e9ca"
    assert default["metadata"] == {"created_by": "system"}
    assert default["context"] == {} and default["name"] == "agent"


def test_search_count_and_filters(make_repo):
    client = make_repo().client()
    client.assistants.create(
        "agent", context={"model_name": "echo"}, name="Alpha", metadata={"team": "x"}
    )
    client.assistants.create(
        "agent", context={"model_name": "echo"}, name="Beta", metadata={"team": "y"}
    )
    names = {a["name"] for a in client.assistants.search(limit=10)}
    assert names == {"Alpha", "Beta", "agent"}
    assert [a["name"] for a in client.assistants.search(metadata={"team": "y"})] == ["Beta"]
    assert [a["name"] for a in client.assistants.search(name="alp")] == ["Alpha"]
    assert client.assistants.count(graph_id="agent") == 3
    ordered = client.assistants.search(sort_by="name", sort_order="asc")
    assert [a["name"] for a in ordered] == [
        "agent",
        "Alpha",
        "Beta",
    ]  # case-insensitive, as the server


def test_create_with_id_and_if_exists(make_repo):
    client = make_repo().client()
    aid = str(uuid.uuid4())
    a = client.assistants.create(
        "agent", context={"model_name": "echo"}, assistant_id=aid, name="A"
    )
    assert a["assistant_id"] == aid
    same = client.assistants.create(
        "agent", context={"model_name": "openai"}, assistant_id=aid, if_exists="do_nothing"
    )
    assert same["context"] == {"model_name": "echo"}
    from gitassist import Conflict

    with pytest.raises(Conflict):
        client.assistants.create("agent", context={"model_name": "echo"}, assistant_id=aid)


def test_delete_keeps_history_and_recreate_continues_numbering(make_repo):
    repo = make_repo()
    client = repo.client()
    aid = client.assistants.create("agent", context={"model_name": "echo"}, name="B")[
        "assistant_id"
    ]
    client.assistants.update(aid, context={"model_name": "openai"})
    client.assistants.delete(aid)
    assert not (repo.path / "assistants/b.yaml").exists()
    with pytest.raises(NotFound, match="deleted"):
        client.assistants.get(aid)
    assert [v["version"] for v in client.assistants.get_versions(aid)] == [2, 1]
    again = client.assistants.create(
        "agent", context={"model_name": "anthropic"}, assistant_id=aid, name="B"
    )
    assert again["version"] == 3
    assert client.assistants.get(aid)["context"] == {"model_name": "anthropic"}


def test_off_tracked_branch_commits_without_versions(make_repo):
    repo = make_repo()
    client = repo.client()
    aid = client.assistants.create("agent", context={"model_name": "echo"}, name="B")[
        "assistant_id"
    ]
    repo.git("switch", "-q", "-c", "feature")
    from gitassist import assistants as ops

    result = ops.update(repo.store(), aid, context={"model_name": "openai"})
    assert not result.recorded and result.pending_version == 2
    assert result.commit == repo.git("rev-parse", "feature")
    assert f"refs/assistants/{aid}/versions/2" not in repo.refs()
    # still version 1 active
    assert client.assistants.get(aid)["context"] == {"model_name": "echo"}


def test_author_and_message_from_caller(make_repo):
    repo = make_repo()
    client = repo.client()
    client.assistants.create(
        "agent",
        context={"model_name": "echo"},
        name="B",
        author="Grace Hopper <grace@example.com>",
        message="Add B for QA",
    )
    assert (
        repo.git("log", "-1", "--format=%an|%ae|%s")
        == "Grace Hopper|grace@example.com|Add B for QA"
    )


def test_update_keeps_comments_and_layout(make_repo):
    aid = str(uuid.uuid4())
    text = (
        f"# Support bot: owned by team A\nassistant_id: {aid}\ngraph_id: agent  # graph\n"
        "name: Support\ncontext:\n  model_name: echo   # cheap for now\n"
        "  system_prompt: |\n    Line one.\n    Line two.\n"
    )
    repo = make_repo({"assistants/support.yaml": text})
    repo.client().assistants.update(
        aid, context={"model_name": "openai", "system_prompt": "Line one.\nLine two.\n"}
    )
    new = (repo.path / "assistants/support.yaml").read_text()
    assert new.startswith("# Support bot: owned by team A\n")
    assert "# graph" in new and "# cheap for now" in new and "model_name: openai" in new
    assert "    Line one.\n    Line two.\n" in new


def test_update_after_rollback_starts_from_the_active_version(make_repo):
    """As on a LangGraph server: fields not sent carry over from the ACTIVE version."""
    client = make_repo().client()
    aid = client.assistants.create(
        "agent", context={"model_name": "echo"}, name="B", description="v1"
    )["assistant_id"]
    client.assistants.update(aid, context={"model_name": "openai"}, description="v2")
    client.assistants.set_latest(aid, 1)
    v3 = client.assistants.update(aid, name="Renamed")
    assert v3["version"] == 3
    assert v3["context"] == {"model_name": "echo"}  # from version 1, not the branch's v2
    assert v3["description"] == "v1"
    client.assistants.set_latest(aid, 1)
    # asking for exactly what the newest version holds re-points instead of duplicating it
    same = client.assistants.update(
        aid, name="Renamed", context={"model_name": "echo"}, description="v1"
    )
    assert same["version"] == 3
    assert [v["version"] for v in client.assistants.get_versions(aid)] == [3, 2, 1]
