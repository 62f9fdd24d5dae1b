"""How gitassist's client departs from ``langgraph_sdk``: in ONE place, read by tests and docs.

* :data:`EXTRAS`: gitassist's own keyword-only parameters, per method. Every other parameter
  of a client method is the SDK's, with the SDK's name, kind and default
  (``tests/test_sdk_signatures.py`` compares them with the installed ``langgraph_sdk``).
* :data:`TRANSPORT`: the SDK's HTTP-only parameters, accepted and ignored.
* :data:`DIFFERENCES`: the intended differences from a real LangGraph server, with the reason;
  ``docs/sdk-compat.md`` renders them as a table (``tests/conformance`` checks they agree, and
  normalises exactly these away when it compares gitassist with ``langgraph dev``).
"""

from __future__ import annotations

from typing import NamedTuple

_WRITE = ("author", "message")
_RUN = ("rev", "pin")

#: gitassist's own keyword-only parameters, by ``group.method``.
EXTRAS: dict[str, tuple[str, ...]] = {
    "assistants.create": (*_WRITE, "dir"),
    "assistants.update": _WRITE,
    "assistants.delete": _WRITE,
    "runs.stream": _RUN,
    "runs.wait": _RUN,
    "runs.create": _RUN,
    "get_client": ("repo", "environment"),
    "get_sync_client": ("repo", "environment"),
}

#: Parameters that only shape the HTTP request: accepted and ignored.
TRANSPORT: tuple[str, ...] = ("headers", "params", "url", "api_key", "timeout")


class Difference(NamedTuple):
    """One intended difference between gitassist and a LangGraph server."""

    key: str  # the conformance step(s) it explains
    call: str
    server: str
    gitassist: str
    reason: str


DIFFERENCES: tuple[Difference, ...] = (
    Difference(
        "validation",
        "create/update/runs with a context the graph's schema rejects",
        "accepted; unknown keys are dropped at run time",
        "422 UnprocessableEntityError naming the JSON path (on write and before a run)",
        "a bad context is caught in review, not in production",
    ),
    Difference(
        "run_declared_schema",
        "a run, no context schema committed, with a context the graph's ContextSchema rejects",
        "runs with it as given (measured: an unknown key and a wrong type both reach the graph)",
        "422 UnprocessableEntityError (CLI: exit 3) before the graph runs, checked against the "
        "schema the loaded graph declares",
        "a run never starts with a context its graph does not accept",
    ),
    Difference(
        "identical_update",
        "update() that changes nothing",
        "a new version",
        "no new version; the assistant is returned unchanged",
        "a version is a commit; an empty commit records nothing",
    ),
    Difference(
        "rollback",
        "set_latest(id, n)",
        "restores config, metadata, name; context stays at the newest version's",
        "restores the whole version n, context included",
        "the server's rollback runs the newer context under the old version number",
    ),
    Difference(
        "delete_history",
        "delete(id), then create(assistant_id=id)",
        "history is destroyed; the re-created assistant starts at version 1",
        "versions are kept; the re-created assistant continues at max+1",
        "git history is the audit trail",
    ),
    Difference(
        "configurable_mirror",
        "assistant config after update(config={...}) without configurable",
        "config loses configurable (config and context drift apart)",
        "config.configurable always mirrors context (omitted when context is empty)",
        "one source of truth: the document stores context only",
    ),
    Difference(
        "set_latest_default",
        "set_latest(default_id, 1) after update",
        "config restored, context stays at version 2's",
        "the implicit default assistant again (empty context)",
        "as rollback above",
    ),
    Difference(
        "unsupported_parameters",
        "webhook=, after_seconds=, feedback_keys=, langsmith_tracing=, stream_resumable=, "
        "multitask_strategy other than 'reject', ttl=, supersteps=, ...",
        "honoured by the server",
        "422 naming the parameter (never silently ignored)",
        "they need a server (queues, webhooks, tracing, TTL sweeps)",
    ),
    Difference(
        "timestamps",
        "assistants' created_at / updated_at",
        "microseconds",
        "the git commit's time: whole seconds (threads and runs have microseconds)",
        "a version is a commit, and git records seconds",
    ),
    Difference(
        "events_root_name",
        "runs.stream(stream_mode='events'): the root run's events",
        "name is the graph id",
        "name is the assistant's name",
        "gitassist names every run after its assistant (run_name), so a trace shows which one ran",
    ),
    Difference(
        "stream_metadata",
        "runs.stream: the first (metadata) event",
        "{run_id, attempt}",
        "also the run's provenance (document and code commit, version, ...)",
        "a run says exactly what it executed",
    ),
)
