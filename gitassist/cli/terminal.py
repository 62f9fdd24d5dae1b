"""Escaping for text shown on a terminal: the one place every human renderer goes through.

A name, description, path, metadata value or message can come from a pull request's
document, so it may hold an ESC sequence (recolour, move the cursor, rewrite the title, hide
text), another C0/C1 control character, a bidi override that reorders what a reviewer reads,
or a newline that forges an extra line of output. None of them reaches the terminal raw:

* :func:`value`: one user value on one line: every such character (newline, carriage return
  and tab included) shown as its escape (``\\x1b``, ``\\n``, ``\\u202e``).
* :func:`text`: a whole block we built (``render.out``/``render.err`` pass everything through
  it): the same, except that our own newlines and tabs stay, and CRLF line ends.
* :func:`json_text`: JSON text with the bidi and line-separator characters (the ones JSON
  allows raw) as ``\\uXXXX`` escapes: the same JSON value, nothing invisible on a terminal.

Import-light on purpose (only ``re``): the fast read path calls it too.
"""

from __future__ import annotations

import re

# C0 controls (tab and newline are handled per function), DEL, C1 controls, the bidi marks,
# embeddings, overrides and isolates, and the Unicode line and paragraph separators.
_OTHERS = "\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_VALUE = re.compile(f"[\x00-\x1f{_OTHERS}]")
_TEXT = re.compile(f"\r(?!\n)|[\x00-\x08\x0b\x0c\x0e-\x1f{_OTHERS}]")
_JSON = re.compile(f"[{_OTHERS}]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def value(raw: object) -> str:
    """``raw`` (a name, path, value) as one terminal-safe line."""
    string = raw if isinstance(raw, str) else str(raw)
    return _VALUE.sub(_escape, string) if _VALUE.search(string) else string


def needs_escape(raw: str) -> bool:
    """Whether :func:`value` would change ``raw`` (one scan over many values joined)."""
    return _VALUE.search(raw) is not None


def text(block: str) -> str:
    """A block of output we built: unsafe characters escaped, our newlines and tabs kept."""
    return _TEXT.sub(_escape, block) if _TEXT.search(block) else block


def json_text(dumped: str) -> str:
    """JSON text (from ``json.dumps(..., ensure_ascii=False)``) with the invisible characters
    JSON allows raw inside strings written as ``\\uXXXX``: it parses to the same value."""
    return _JSON.sub(lambda m: f"\\u{ord(m.group(0)):04x}", dumped)


__all__ = ["json_text", "needs_escape", "text", "value"]
