"""Prepare a run: everything before the graph executes, and what it records as provenance.

Resolve the target (id, graph id, stem, name, ``@N``, ``--rev``) → merge the run's context over
the assistant's, key by key → validate the merged context against the committed schema of the
code that will run (nothing runs when it is invalid) → apply ``langgraph.json`` ``env``
(:mod:`gitassist.run_env`) → load the graph named in ``langgraph.json`` (from the working tree,
or with ``pin`` from the version's own commit: :mod:`gitassist.graph_code`); with no committed
schema, the context is checked against the one the loaded graph declares. The result is a
:class:`PreparedRun`; :func:`trace_config` turns its :class:`Provenance` into run metadata and
tags. Executing it is :mod:`gitassist.runner`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gitassist import resolve as reads
from gitassist.document_checks import context_problems
from gitassist.errors import NotFound, ValidationFailed
from gitassist.graph_code import code_source, graph_spec, load_cached, schema_set_of
from gitassist.problems import json_path
from gitassist.run_env import apply_env

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from gitassist.graph_code import Code
    from gitassist.resolve import Resolved
    from gitassist.schemas import SchemaSet
    from gitassist.store import Store

__all__ = ["PreparedRun", "Provenance", "prepare", "trace_config"]


@dataclass(frozen=True)
class Provenance:
    """What a run executed: the exact document and graph code, by commit."""

    assistant_id: str
    graph_id: str
    name: str
    version: int | None
    source: str
    document_commit: str | None
    document_path: str | None
    code_commit: str | None
    pinned: bool
    code_dirty: bool
    context_checked: bool  # False when there is no context schema at all
    env: tuple[str, ...] = ()  # the names langgraph.json "env" set (never the values)
    # the schema the context was checked against: "committed", "graph" (declared), or None
    context_schema: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class PreparedRun:
    """A resolved, validated assistant with its graph loaded: ready to execute."""

    resolved: Resolved
    context: dict[str, Any]
    config: dict[str, Any]
    graph: Any
    provenance: Provenance
    code_root: Path


# --------------------------------------------------------------------------- preparing


def _validate(
    store: Store,
    resolved: Resolved,
    code: Code,
    merged: dict[str, Any],
    run_context: Mapping[str, Any],
    schemas: SchemaSet,
) -> None:
    """Raise ValidationFailed listing every problem (nothing to check: nothing raised)."""
    doc = resolved.document.model_copy(update={"context": merged})
    text = store.blob_text(resolved.blob) if resolved.blob else ""
    path = resolved.path or f"<default assistant of {doc.graph_id}>"
    rev = resolved.commit[:12] if resolved.source == "rev" and resolved.commit else None
    found = context_problems(
        doc,
        text,
        path,
        schemas,
        rev=rev,
        unknown_keys=code.project.settings.unknown_context_keys,
    )
    errors = [_from_run_context(p, run_context) for p in found if p.severity == "error"]
    if errors:
        detail = "; ".join(f"{p.json_path}: {p.message}" for p in errors[:3])
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        raise ValidationFailed(
            f"context of {doc.name} is invalid for graph {doc.graph_id!r}: {detail}{more}",
            list(errors),
            hint="nothing ran; fix the assistant's context or the run's --context",
        )


def _from_run_context(problem: Any, run_context: Mapping[str, Any]) -> Any:
    """A problem about a key the run's own context set points at the run, not the file."""
    for key in run_context:
        prefix = json_path(("context", key))
        if problem.json_path.startswith((prefix + ".", prefix + "[")) or (
            problem.json_path == prefix
        ):
            return dataclasses.replace(problem, file="run context", line=None, column=None)
    return problem


def _run_config(resolved: Resolved, config: Mapping[str, Any] | None) -> dict[str, Any]:
    stored = resolved.document.config
    extra = dict(config or {})
    out: dict[str, Any] = {"tags": [*stored.tags, *extra.pop("tags", [])]}
    limit = extra.pop("recursion_limit", None) or stored.recursion_limit
    if limit is not None:
        out["recursion_limit"] = limit
    extra.pop("configurable", None)
    out.update(extra)
    return out


def _configurable_as_context(
    config: Mapping[str, Any] | None, context: Mapping[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A run's ``config.configurable`` is context, as on the server (both given: 400)."""
    rest = dict(config or {})
    configurable = rest.pop("configurable", None)
    if configurable and context:
        from gitassist.sdk_errors import bad_request

        raise bad_request(
            "Cannot specify both configurable and context. Prefer setting context alone."
        )
    return rest, dict(context or configurable or {})


def prepare(
    store: Store,
    target: str,
    *,
    rev: str | None = None,
    context: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
    pin: bool = False,
) -> PreparedRun:
    """Resolve, merge and validate the context, load the graph: everything before running."""
    resolved = reads.resolve(store, target, rev=rev)
    doc = resolved.document
    if pin and resolved.commit is None:
        raise NotFound(f"{doc.name} has no commit to pin its code to")
    code = code_source(store, resolved.commit if pin else None)
    spec = graph_spec(code, doc.graph_id)
    config, run_context = _configurable_as_context(config, context)
    merged = {**doc.context, **run_context}
    schemas = schema_set_of(store, code)
    committed = schemas.validator(doc.graph_id) is not None
    if committed:  # checked before the graph module is even imported
        _validate(store, resolved, code, merged, run_context, schemas)
    env_names = apply_env(code.project, store.root)  # before the graph is imported, as dev
    graph, dirty = load_cached(code, doc.graph_id, spec, store)
    if not committed:  # the schema the loaded graph declares; nothing has run yet
        from gitassist.schema_export import declared_schemas

        schemas = declared_schemas(doc.graph_id, graph)
        _validate(store, resolved, code, merged, run_context, schemas)
    checked = schemas.validator(doc.graph_id) is not None
    provenance = Provenance(
        assistant_id=doc.assistant_id,
        graph_id=doc.graph_id,
        name=doc.name,
        version=resolved.version,
        source=resolved.source,
        document_commit=resolved.commit,
        document_path=resolved.path,
        code_commit=code.commit,
        pinned=code.pinned,
        code_dirty=dirty,
        context_checked=checked,
        env=env_names,
        context_schema=("committed" if committed else "graph") if checked else None,
    )
    run_config = _run_config(resolved, config)
    run_config["configurable"] = dict(merged)  # graphs that read config["configurable"] see it
    return PreparedRun(resolved, merged, run_config, graph, provenance, code.root.resolve())


def trace_config(prov: Provenance, config: Mapping[str, Any]) -> dict[str, Any]:
    """Provenance as run metadata and tags, so LangSmith (or any callback handler) shows which
    assistant version, document commit and code commit produced a trace."""
    metadata = {
        **dict(config.get("metadata") or {}),
        "assistant_id": prov.assistant_id,
        "graph_id": prov.graph_id,
        "assistant_version": prov.version,
        "document_commit": prov.document_commit,
        "code_commit": prov.code_commit,
        "code_dirty": prov.code_dirty,
    }
    tags = [
        f"assistant:{prov.assistant_id}",
        *([f"version:{prov.version}"] if prov.version is not None else []),
        *([f"document:{prov.document_commit[:12]}"] if prov.document_commit else []),
        *([f"code:{prov.code_commit[:12]}"] if prov.code_commit else []),
    ]
    own = list(config.get("tags") or [])
    return {"metadata": metadata, "tags": [*own, *(tag for tag in tags if tag not in own)]}
