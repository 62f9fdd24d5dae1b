"""Streamed run events in langgraph_sdk's shapes: :class:`StreamPart` and the stream modes.

A graph streams ``(mode, chunk)`` pairs; :class:`StreamShaper` turns them into the events a
LangGraph Server would send for the stream modes asked for (``messages`` becomes
``messages/metadata``, ``messages/partial`` and ``messages/complete``; ``messages-tuple``
becomes ``messages`` pairs), with every value as plain JSON data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from gitassist.errors import ValidationFailed

if TYPE_CHECKING:
    from collections.abc import Sequence

STREAM_MODES = (
    "values",
    "updates",
    "messages",
    "messages-tuple",
    "debug",
    "custom",
    "tasks",
    "checkpoints",
    "events",
)


class StreamPart(NamedTuple):
    """One streamed event, the same shape as ``langgraph_sdk.schema.StreamPart``."""

    event: str
    data: Any
    id: str | None = None


def v2_part(part: StreamPart) -> dict[str, Any]:
    """A part as ``version="v2"`` streams yield it: ``{type, ns, data, interrupts}``."""
    event, *ns = part.event.split("|")
    data = part.data
    interrupts: Any = []
    if event == "values" and isinstance(data, dict) and "__interrupt__" in data:
        data = {k: v for k, v in data.items() if k != "__interrupt__"}
        interrupts = part.data["__interrupt__"]
    return {"type": event, "ns": ns, "data": data, "interrupts": interrupts}


def jsonable(value: Any) -> Any:
    """Plain JSON data, as a LangGraph server would send it (messages become dicts)."""
    from pydantic_core import to_jsonable_python

    return to_jsonable_python(value, fallback=repr)


def stream_modes(stream_mode: str | Sequence[str]) -> list[str]:
    """The modes asked for, each once; ValidationFailed on an unknown one."""
    modes = [stream_mode] if isinstance(stream_mode, str) else list(stream_mode)
    unknown = [m for m in modes if m not in STREAM_MODES]
    if unknown or not modes:
        raise ValidationFailed(
            f"unknown stream mode {', '.join(unknown) or '(none)'}",
            [],
            hint=f"use one or more of: {', '.join(STREAM_MODES)}",
        )
    return list(dict.fromkeys(modes))


class StreamShaper:
    """One run's conversion of the graph's ``(mode, chunk)`` pairs into SDK-shaped events."""

    def __init__(self, stream_mode: str | Sequence[str]) -> None:
        self.modes = stream_modes(stream_mode)
        self.messages: dict[str, Any] = {}
        self.last_values: Any = None
        # "events": LangChain's astream_events v2, the other modes carried inside it (as the
        # server streams them: the root run's on_chain_stream events are the modes' chunks)
        self.events = "events" in self.modes
        graph_modes = {"messages" if m == "messages-tuple" else m for m in self.modes}
        graph_modes.discard("events")
        if "values" not in graph_modes:
            graph_modes.add("values")  # for the final state; not yielded unless asked for
            self.hidden_values = True
        else:
            self.hidden_values = False
        self.graph_modes = sorted(graph_modes)

    def event_parts(self, event: dict[str, Any], root: str) -> tuple[bool, list[StreamPart]]:
        """For one astream_events event: (is it a chunk of a stream mode, the events to yield)."""
        if "langsmith:hidden" in (event.get("tags") or ()):
            return False, []
        if event["event"] == "on_chain_stream" and str(event["run_id"]) == root:
            return True, []
        return False, [StreamPart("events", jsonable(event))]

    def parts(self, mode: str, chunk: Any) -> list[StreamPart]:
        if mode == "values":
            self.last_values = chunk
            return [] if self.hidden_values else [StreamPart("values", jsonable(chunk))]
        if mode != "messages":
            return [StreamPart(mode, jsonable(chunk))]
        message, meta = chunk
        out = []
        if "messages-tuple" in self.modes:
            out.append(StreamPart("messages", [jsonable(message), jsonable(meta)]))
        if "messages" in self.modes:
            out.extend(self._message_parts(message, meta))
        return out

    def _message_parts(self, message: Any, meta: Any) -> list[StreamPart]:
        from langchain_core.messages import BaseMessageChunk

        out = []
        key = getattr(message, "id", None) or str(id(message))
        if key in self.messages:
            previous = self.messages[key]
            both_chunks = isinstance(previous, BaseMessageChunk) and isinstance(
                message, BaseMessageChunk
            )
            self.messages[key] = previous + message if both_chunks else message
        else:
            self.messages[key] = message
            out.append(StreamPart("messages/metadata", {key: {"metadata": jsonable(meta)}}))
        event = "messages/partial" if isinstance(message, BaseMessageChunk) else "messages/complete"
        out.append(StreamPart(event, [jsonable(self.messages[key])]))
        return out
