"""Bounds on every document gitassist parses, and the bounded JSON reader.

A pull request from a fork controls the documents, schemas and command-line values that the
review commands parse, so every parse is bounded by counting, never by timing (the async
client validates in worker threads, where alarms do not work). The numbers are documented in
``docs/format.md#limits`` and ``docs/security.md#limits``; keep the three in step.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DOCUMENT_BYTES = 1_000_000
"""A document, schema file or command-line value is at most this many bytes (UTF-8)."""

MAX_DEPTH = 100
"""Mappings and sequences nest at most this deep (counted after expanding aliases)."""

MAX_ALIAS_NODES = 10_000
"""Aliases expand to at most this many nodes in one document, all aliases together."""

INT_MIN, INT_MAX = -(2**63), 2**63 - 1
"""Integers must fit in 64 bits, as in most JSON readers other than Python's."""

LIMITS_DOC = "docs/format.md#limits"

_SURROGATE = re.compile("[\ud800-\udfff]")
# Outside strings, JSON text is brackets, numbers, literals and punctuation; strings are
# skipped whole (the unrolled form scans a long string in one step).
_JSON_TOKEN = re.compile(
    r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[{]|[\]}]|-?Infinity|NaN|-?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?'
)


class JSONLimitError(json.JSONDecodeError):
    """JSON that is syntactically fine but beyond a limit or not portable JSON (NaN, 1e999)."""


def line_column(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of character ``index`` of ``text``."""
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def utf8_size(text: str) -> int:
    """Bytes of ``text`` in UTF-8 (a lone surrogate, an undecodable byte, counts as three)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def oversize_index(text: str) -> int | None:
    """The character index where ``text`` passes :data:`MAX_DOCUMENT_BYTES`, or None."""
    if len(text) <= MAX_DOCUMENT_BYTES // 4 or utf8_size(text) <= MAX_DOCUMENT_BYTES:
        return None
    low, high = 0, len(text)  # the shortest prefix that is too big
    while low < high:
        mid = (low + high) // 2
        if utf8_size(text[: mid + 1]) > MAX_DOCUMENT_BYTES:
            high = mid
        else:
            low = mid + 1
    return low


def size_message() -> str:
    return f"larger than {MAX_DOCUMENT_BYTES:,} bytes (see {LIMITS_DOC})"


def invalid_utf8(text: str) -> tuple[int, int] | None:
    """(character index, byte offset) of the first undecodable byte, or None.

    Text read with ``errors="surrogateescape"`` keeps each undecodable byte as a lone
    surrogate, which valid UTF-8 never produces, so it can be refused with its offset.
    """
    if text.isascii():
        return None
    found = _SURROGATE.search(text)
    if found is None:
        return None
    index = found.start()
    return index, len(text[:index].encode("utf-8"))


def int_message(text: str) -> str | None:
    """Why the integer literal ``text`` is refused, or None."""
    digits = text.lstrip("+-")
    if len(digits) > 40:  # longer than any 64-bit number in any base; int() would be slow
        return f"integer {text[:20]}… ({len(digits):,} digits) is outside the 64-bit range"
    return None


def int_in_range(value: int) -> bool:
    return INT_MIN <= value <= INT_MAX


def load_json(text: str) -> Any:
    """``json.loads`` with the limits: size, depth, 64-bit integers, finite numbers only.

    Raises :class:`json.JSONDecodeError` for text that is not JSON and its subclass
    :class:`JSONLimitError` for JSON beyond a limit; both carry ``lineno`` and ``colno``.
    """
    index = oversize_index(text)
    if index is not None:
        raise JSONLimitError(size_message(), text, index)
    bad = invalid_utf8(text)
    if bad is not None:
        raise JSONLimitError(f"invalid UTF-8 at byte {bad[1]}", text, bad[0])
    depth = 0
    for token in _JSON_TOKEN.finditer(text):
        first = token.group()[0]
        if first == '"':
            continue
        if first in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise JSONLimitError(
                    f"nested deeper than {MAX_DEPTH} levels (see {LIMITS_DOC})", text, token.start()
                )
        elif first in "]}":
            depth -= 1
        else:
            problem = _number_problem(token.group())
            if problem is not None:
                raise JSONLimitError(problem, text, token.start())
    return json.loads(text, parse_constant=_constant)


def _number_problem(token: str) -> str | None:
    if token in ("NaN", "Infinity", "-Infinity"):
        return f"{token} is not a JSON number (only finite numbers are allowed)"
    if any(c in token for c in ".eE"):
        if not math.isfinite(float(token)):
            return f"{token[:20]} is not a finite number"
        return None
    message = int_message(token)
    if message is None and not int_in_range(int(token)):
        message = f"integer {token} is outside the 64-bit range"
    return message


def _constant(name: str) -> Any:  # NaN/Infinity are refused by the scan; never reached
    raise ValueError(f"{name} is not a JSON number")
