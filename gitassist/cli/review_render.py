"""Render a :class:`~gitassist.review.Review` for a terminal and as a pull-request comment.

The core (:mod:`gitassist.review`) returns the records; this module only formats them:
plain text for ``gitassist diff`` and ``versions diff``, and GitHub Markdown that stays under
the 65,536-character comment limit, saying what it left out.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any

from gitassist.cli import markdown
from gitassist.cli.render import problem_line
from gitassist.cli.terminal import value as safe
from gitassist.redact import REDACTED

if TYPE_CHECKING:
    from collections.abc import Callable

    from gitassist.field_diff import FieldChange
    from gitassist.problems import Problem
    from gitassist.review import AssistantChange, Review, SchemaChange

MARKDOWN_LIMIT = 65_536  # GitHub's limit on a comment body
_MAX_DIFF_LINES = 60
_MAX_FIELDS = 40
_MAX_BROKEN = 20
_VALUE_WIDTH = 100


# --------------------------------------------------------------------------- rendering


def _value(value: Any) -> str:
    text = (
        value
        if isinstance(value, str) and value == REDACTED
        else json.dumps(value, ensure_ascii=False)
    )
    return text if len(text) <= _VALUE_WIDTH else text[: _VALUE_WIDTH - 1] + "…"


def _short_path(path: str) -> str:
    return path.removeprefix("$.")


def _headline(change: AssistantChange, quote: Callable[[str], str] = str) -> str:
    old_path = quote(change.old_path or "")
    what = {
        "added": "added",
        "changed": "changed",
        "deleted": "deleted",
        "renamed": f"renamed from {old_path} (same content: no new version)",
        "reformatted": "reformatted (same content: no new version)",
        "unchanged": "unchanged",
    }[change.kind]
    if change.kind == "changed" and change.old_path and change.old_path != change.new_path:
        what += f" (moved from {old_path})"
    if change.version is not None:
        verb = "recorded as" if change.recorded else "becomes"
        what += f", {verb} version {change.version}"
    if change.kind == "deleted":
        what += " (marked deleted once merged and applied with --prune)"
    return what


def _field_line(change: FieldChange) -> str:
    name = _short_path(change.path)
    if change.text_diff:
        return f"{name}: changed (text diff below)"
    if change.kind == "added":
        return f"{name}: + {_value(change.new)}"
    if change.kind == "removed":
        return f"{name}: - {_value(change.old)}"
    return f"{name}: {_value(change.old)} → {_value(change.new)}"


def change_text(change: AssistantChange) -> str:
    """A plain-text block for one assistant change."""
    mark = {"added": "+", "deleted": "-", "renamed": ">", "changed": "~"}.get(change.kind, "=")
    ident = f" ({change.assistant_id})" if change.assistant_id else ""
    ident = safe(ident)
    head = f"{mark} {safe(change.name)}{ident}  {safe(change.path)}"
    lines = [head, f"    {_headline(change, safe)}"]
    for field_change in change.fields:
        lines.append(f"    {safe(_field_line(field_change))}")
        lines.extend(f"      {line}" for line in field_change.text_diff.splitlines())
    lines.extend(f"    {problem_line(p)}" for p in change.problems)
    return "\n".join(lines)


def render_text(result: Review) -> str:
    """The review for a terminal."""
    lines = [f"Assistant changes {result.base[:12]}..{result.head[:12]}: {_summary(result)}"]
    for change in result.assistants:
        lines += ["", change_text(change)]
    for schema in result.schemas:
        what = f"{safe(schema.path)} {schema.kind}: {_broken_summary(schema)}"
        lines += ["", f"* context schema {what}"]
        lines.extend(f"    {line}" for line in schema.text_diff.splitlines())
        for item in schema.broken:
            lines.append(f"    stops validating: {safe(item.name)} ({safe(item.path)})")
            lines.extend(f"      {problem_line(p)}" for p in item.problems)
    lines.extend(["", *(problem_line(p) for p in result.problems)] if result.problems else [])
    lines.extend(f"note: {safe(n)}" for n in result.notes)
    return "\n".join(lines)


def _summary(result: Review) -> str:
    if not result.has_changes:
        return "no changes"
    counts = result.counts()
    parts = [
        f"{n} {kind}"
        for kind in ("added", "changed", "deleted", "renamed", "reformatted")
        if (n := counts.get(kind))
    ]
    if result.schemas:
        parts.append(f"{len(result.schemas)} context schema(s) changed")
    invalid = sum(1 for c in result.assistants if c.errors)
    broken = sum(len(s.broken) for s in result.schemas)
    status = (
        "all valid"
        if result.valid
        else (f"{invalid} invalid" + (f", {broken} broken by schema changes" if broken else ""))
    )
    return ", ".join(parts) + f"; {status}"


def _broken_summary(schema: SchemaChange, quote: Callable[[str], str] | None = None) -> str:
    graph = quote(schema.graph_id) if quote else f"`{schema.graph_id}`"
    if not schema.broken:
        return f"all {schema.assistants} assistant(s) of graph {graph} still validate"
    return (
        f"{len(schema.broken)} of {schema.assistants} assistant(s) of graph {graph} stop validating"
    )


# --------------------------------------------------------------------------- markdown


def _code(text: str) -> str:
    return markdown.code(text)


def _cell(text: str) -> str:
    return markdown.cell(text)


def _md(text: str) -> str:
    return markdown.message(text)


def _html(text: str) -> str:
    return markdown.html(text)


def _md_name(text: str) -> str:
    return markdown.text(text)


def _fenced(body: str, lang: str = "diff") -> list[str]:
    lines = body.splitlines()
    if len(lines) > _MAX_DIFF_LINES:
        lines = [*lines[:_MAX_DIFF_LINES], f"… ({len(lines) - _MAX_DIFF_LINES} more lines)"]
    start, end = markdown.fence(body, lang)
    return [start, *map(markdown.inert, lines), end]


def _md_problem(problem: Problem, icon: str, with_path: bool = True) -> str:
    path = f" {_code(problem.json_path)}" if with_path else ""
    return f"- {icon} {_code(problem.where())}{path}: {_md(problem.message)}"


def change_markdown(change: AssistantChange) -> str:
    icon = {"added": "🆕", "changed": "✏️", "deleted": "🗑️", "renamed": "🚚"}.get(change.kind, "📄")
    status = "❌" if change.errors else ""
    lines = [
        f"### {icon} {_md_name(change.name)} {status}".rstrip(),
        "",
        f"{_code(change.path)} · {_headline(change, _code)}"
        + (f" · id {_code(change.assistant_id)}" if change.assistant_id else ""),
        "",
    ]
    lines += _md_fields(change.fields)
    if change.problems:
        lines += ["**Problems at HEAD:**", ""]
        lines += [_md_problem(p, "❌" if p.severity == "error" else "⚠️") for p in change.problems]
        lines.append("")
    return "\n".join(lines) + "\n"


def _md_fields(fields: tuple[FieldChange, ...]) -> list[str]:
    shown = fields[:_MAX_FIELDS]
    plain = [f for f in shown if not f.text_diff]
    lines: list[str] = []
    if plain:
        lines += ["| field | before | after |", "|---|---|---|"]
        lines += [
            f"| {_cell(_short_path(f.path))} | "
            f"{_cell(_value(f.old)) if f.kind != 'added' else ''} | "
            f"{_cell(_value(f.new)) if f.kind != 'removed' else ''} |"
            for f in plain
        ]
        lines.append("")
    for f in shown:
        if f.text_diff:
            lines += [
                f"<details><summary><code>{_html(_short_path(f.path))}</code> (text diff)"
                "</summary>",
                "",
                *_fenced(f.text_diff),
                "",
                "</details>",
                "",
            ]
    if len(fields) > _MAX_FIELDS:
        lines += [f"_… and {len(fields) - _MAX_FIELDS} more field change(s)_", ""]
    return lines


def _md_schema(schema: SchemaChange) -> str:
    icon = "❌" if schema.broken else "✅"
    lines = [
        f"### 📐 Context schema {_code(schema.path)} {schema.kind}",
        "",
        f"{icon} {_broken_summary(schema, _code)}",
        "",
    ]
    for item in schema.broken[:_MAX_BROKEN]:
        first = item.problems[0] if item.problems else None
        why = f": {_md(first.message)}" if first else ""
        lines.append(f"- {_md_name(item.name)} ({_code(item.path)}){why}")
    if len(schema.broken) > _MAX_BROKEN:
        lines.append(f"- … and {len(schema.broken) - _MAX_BROKEN} more")
    if schema.broken:
        lines.append("")
    lines += [
        "<details><summary>schema diff</summary>",
        "",
        *_fenced(schema.text_diff),
        "",
        "</details>",
        "",
    ]
    return "\n".join(lines) + "\n"


def render_markdown(result: Review, limit: int = MARKDOWN_LIMIT) -> str:
    """A pull-request comment; stays under ``limit`` characters, saying what it left out."""
    header = _md_header(result)
    reserve = 1_000  # room for the closing summary of what was cut
    parts, used = [header], len(header)
    blocks = [_md_schema(s) for s in result.schemas]
    ordered = sorted(result.assistants, key=lambda c: (not c.errors, c.path))
    shown = 0
    for block in blocks:
        if used + len(block) + reserve <= limit:
            parts.append(block)
            used += len(block)
    for change in ordered:
        block = change_markdown(change)
        if used + len(block) + reserve > limit:
            break
        parts.append(block)
        used += len(block)
        shown += 1
    rest = ordered[shown:]
    if rest:
        parts.append(_md_cut(rest, limit - used))
    return "".join(parts)


def _md_header(result: Review) -> str:
    icon = "✅" if result.valid else "❌"
    lines = [
        "## gitassist: assistant changes",
        "",
        f"{icon} {_code(result.base[:12])}..{_code(result.head[:12])}: {_summary(result)}",
        "",
    ]
    lines += [_md_problem(p, "❌", with_path=False) for p in result.problems]
    lines += [f"> {_md(n)}" for n in result.notes]
    return "\n".join(lines) + "\n"


def _md_cut(rest: list[AssistantChange], room: int) -> str:
    """One line per change that did not fit, while they fit; then what was left out."""
    counts = Counter(c.kind for c in rest)
    what = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
    closing = (
        f"\n_{len(rest)} assistant change(s) not shown in full to stay under GitHub's "
        f"{MARKDOWN_LIMIT:,}-character comment limit ({what}). Run `gitassist diff` "
        "locally for the complete diff._\n"
    )
    lines = ["### Not shown in full", ""]
    used = len(closing) + 40
    listed = 0
    for change in rest:
        line = f"- {_md_name(change.name)} ({_code(change.path)}): {_headline(change, _code)}\n"
        if used + len(line) > room - 200:
            break
        lines.append(line.rstrip("\n"))
        used += len(line)
        listed += 1
    if listed < len(rest):
        lines.append(f"- … and {len(rest) - listed} more")
    return "\n".join(lines) + "\n" + closing
