"""What a compiled graph says about itself: JSON Schemas, its drawable graph, its subgraphs.

The shapes are those of a LangGraph server's ``get_schemas``, ``get_graph`` and
``get_subgraphs``: input and output schemas from the graph, a state schema built from its
stream channels, the ``configurable`` part of its config schema, and its context schema.
A schema the graph cannot produce is ``None`` (as on the server) rather than an error.
"""

from __future__ import annotations

from typing import Any

# Keys a server strips from the configurable schema (set by the server, not by callers).
_EXCLUDED_CONFIGURABLE = ("checkpoint_id", "checkpoint_ns", "checkpoint_map", "thread_id")


def _state_schema(graph: Any) -> dict[str, Any]:
    from pydantic import create_model

    fields: dict[str, Any] = {}
    for key in graph.stream_channels_list:
        update_type = graph.channels[key].UpdateType
        try:
            create_model(key, __root__=(update_type, None)).model_json_schema()
            fields[key] = (update_type, None)
        except Exception:  # a type pydantic cannot describe: anything goes
            fields[key] = (Any, None)
    model: Any = create_model(graph.get_name("State"), **fields)
    schema: dict[str, Any] = model.model_json_schema()
    return schema


def _configurable_schema(graph: Any) -> dict[str, Any] | None:
    import warnings

    from pydantic import TypeAdapter

    with warnings.catch_warnings():  # deprecated in langgraph 1.0; the server still calls it
        warnings.simplefilter("ignore")
        model = graph.config_schema()
    fields = getattr(model, "model_fields", None) or {}
    if "configurable" not in fields:
        return None
    annotation: Any = fields["configurable"].annotation
    schema: dict[str, Any] = TypeAdapter(annotation).json_schema()
    for key in _EXCLUDED_CONFIGURABLE:
        schema.get("properties", {}).pop(key, None)
    return schema


def _try(make: Any) -> Any:
    try:
        return make()
    except Exception:  # the server answers None for a schema it cannot build
        return None


def graph_schemas(graph: Any) -> dict[str, Any]:
    """input/output/state/config/context schemas of a compiled graph (None where unavailable)."""
    return {
        "input_schema": _try(graph.get_input_jsonschema),
        "output_schema": _try(graph.get_output_jsonschema),
        "state_schema": _try(lambda: _state_schema(graph)),
        "config_schema": _try(lambda: _configurable_schema(graph)),
        "context_schema": _try(graph.get_context_jsonschema),
    }


def drawable(graph: Any, xray: int | bool = False) -> dict[str, Any]:
    """The graph's nodes and edges as a server's ``get_graph`` returns them."""
    data: dict[str, Any] = graph.get_graph(xray=xray).to_json()
    for node in data.get("nodes", []):
        if isinstance(node.get("data"), dict):
            node["data"].pop("id", None)
    return data


def subgraphs(graph: Any, namespace: str | None = None, recurse: bool = False) -> dict[str, Any]:
    """``{namespace: schemas}`` for each subgraph, as a server's ``get_subgraphs``."""
    return {
        ns: graph_schemas(sub)
        for ns, sub in graph.get_subgraphs(namespace=namespace, recurse=recurse)
    }
