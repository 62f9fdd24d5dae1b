"""Escaping for Markdown that GitHub renders (a pull-request comment, a job summary).

Every user-controlled string (an assistant name, a file path, a key, a value, a message that
quotes one) goes through one of these before it is put into Markdown, so it renders as the
text it is: no raw HTML (an unclosed ``<!--`` would hide the rest of the comment), no active
``@mention``, no image, no link, no emphasis, and a fence that nothing inside can close.

* :func:`code`: an inline code span (paths, keys, values) whose backtick fence is longer
  than any backtick run inside it; newlines become spaces.
* :func:`cell`: :func:`code` for a table cell (``|`` escaped, as GFM tables need).
* :func:`text`: prose (assistant names in headings and lists): every ASCII punctuation
  character backslash-escaped, and ``@``, ``://`` and ``www.`` broken with a zero-width space so
  neither GitHub's mentions nor its autolinks fire.
* :func:`message`: a message we wrote, whose backticked parts stay code spans.
* :func:`html`: the text of an HTML element we emit (the ``<summary>`` of a text diff).
* :func:`fence`: a fenced block whose fence is longer than any backtick run in the body.

Redact before escaping (``gitassist.redact.scrub``): escaping inserts characters into a token.
"""

from __future__ import annotations

import re

ZWSP = "\u200b"
_BACKTICKS = re.compile(r"`+")
_PUNCT = re.compile(r"([!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])")
_LINK_START = re.compile(r"(?i)(://|www\.|@)")


def _one_line(value: str) -> str:
    return " ".join(value.splitlines()) if ("\n" in value or "\r" in value) else value


def _longest_run(value: str) -> int:
    return max((len(m.group(0)) for m in _BACKTICKS.finditer(value)), default=0)


_INERT = re.compile(r"<!--|!\[|@")


def inert(value: str) -> str:
    """``value`` with a zero-width space in every ``<!--``, ``![`` and ``@``: for text inside a
    code span or fence, where they do nothing on GitHub, so the source holds none either."""
    return _INERT.sub(lambda m: m.group(0)[0] + ZWSP + m.group(0)[1:], value)


def code(value: str) -> str:
    """``value`` as an inline code span that nothing inside it can close. ``<!--``, ``![``
    and ``@`` (inert in a code span already) get a zero-width space too, so the Markdown
    source holds none of them for a renderer or a scanner that reads it differently."""
    value = inert(_one_line(value))
    if not value.strip():
        return "` `"
    fence = "`" * (_longest_run(value) + 1)
    if fence == "`" and not value.startswith((" ", "`")) and not value.endswith((" ", "`")):
        return f"`{value}`"
    return f"{fence} {value} {fence}"  # one space each side is stripped by the renderer


def cell(value: str) -> str:
    """:func:`code` for a GFM table cell."""
    return code(value).replace("|", "\\|")


def text(value: str) -> str:
    """``value`` as inert Markdown prose: shown as written, nothing in it is markup."""
    value = _one_line(value)
    value = _LINK_START.sub(lambda m: m.group(1)[0] + ZWSP + m.group(1)[1:], value)
    return _PUNCT.sub(r"\\\1", value)


_QUOTED = re.compile(r"`([^`\n]+)`")


def message(value: str) -> str:
    """A message we wrote that quotes user values in backticks (``unknown context key `x```):
    each quoted part as :func:`code`, the rest as :func:`text`."""
    value = _one_line(value)
    out, last = [], 0
    for m in _QUOTED.finditer(value):
        out += [text(value[last : m.start()]), code(m.group(1))]
        last = m.end()
    out.append(text(value[last:]))
    return "".join(out)


def html(value: str) -> str:
    """``value`` as the text of an HTML element we emit (``<summary><code>…</code>``): inside
    an HTML block nothing is Markdown, so entities, not backslashes; ``@`` and ``://`` broken."""
    value = _one_line(value)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = (
        value.replace('"', "&quot;").replace("@", "&#64;" + ZWSP).replace("![", "!" + ZWSP + "[")
    )
    return value.replace("://", ":" + ZWSP + "//").replace("www.", "www" + ZWSP + ".")


def fence(body: str, lang: str = "") -> tuple[str, str]:
    """The opening and closing lines of a fenced block that ``body`` cannot close (pass
    the body's lines through :func:`inert`)."""
    ticks = "`" * max(3, _longest_run(body) + 1)
    return f"{ticks}{lang}", ticks


__all__ = ["ZWSP", "cell", "code", "fence", "html", "inert", "message", "text"]
