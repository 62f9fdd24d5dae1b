"""Provenance in traces: a run's RunnableConfig carries the assistant id, version, document
commit and code commit as metadata and tags, so LangSmith (or any callback handler) shows
which version produced a trace. The handler here is a real langchain BaseCallbackHandler on a
real compiled graph."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import BaseCallbackHandler

from gitassist.runner import Runner

if TYPE_CHECKING:
    from uuid import UUID


class Recorder(BaseCallbackHandler):
    def __init__(self) -> None:
        self.starts: list[dict[str, Any]] = []

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.starts.append(
            {"parent": parent_run_id, "tags": tags or [], "metadata": metadata or {}, **kwargs}
        )


def test_runs_carry_provenance_to_callback_handlers(make_repo):
    repo = make_repo()
    client = repo.client()
    created = client.assistants.create(
        "agent", context={"model_name": "echo"}, config={"tags": ["prod"]}, name="Bot"
    )
    assistant_id = created["assistant_id"]
    client.assistants.update(assistant_id, context={"model_name": "echo", "system_prompt": "2"})
    head = repo.git("rev-parse", "HEAD").strip()

    recorder = Recorder()
    Runner(repo.store()).wait(
        None,
        f"{assistant_id}@2",
        input={"question": "q"},
        config={"callbacks": [recorder]},
        metadata={"ticket": "T-1"},
    )
    top = [s for s in recorder.starts if s["parent"] is None]
    assert len(top) == 1  # the graph run itself
    metadata, tags = top[0]["metadata"], top[0]["tags"]
    assert metadata["assistant_id"] == assistant_id
    assert metadata["graph_id"] == "agent"
    assert metadata["assistant_version"] == 2
    assert metadata["document_commit"] == head
    assert metadata["code_commit"] == head
    assert {"prod", f"assistant:{assistant_id}", "version:2", f"document:{head[:12]}"} <= set(tags)
    assert f"code:{head[:12]}" in tags
    # inner steps (the graph's nodes) inherit them, as LangSmith shows on every span
    inner = [s for s in recorder.starts if s["parent"] is not None]
    assert inner
    assert all(s["metadata"]["assistant_version"] == 2 for s in inner)

    # version 1 after a rollback: the trace says version 1 and its own commit
    client.assistants.set_latest(assistant_id, 1)
    recorder = Recorder()
    Runner(repo.store()).wait(
        None, assistant_id, input={"question": "q"}, config={"callbacks": [recorder]}
    )
    top = next(s for s in recorder.starts if s["parent"] is None)
    assert top["metadata"]["assistant_version"] == 1
    assert top["metadata"]["document_commit"] != head
    assert "version:1" in top["tags"]
