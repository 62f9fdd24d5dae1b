"""Secret detection and redaction: one detector, one redaction pass for the review path.

What a review command (``validate``, ``diff``, ``plan``, ``apply``, ``versions diff``) prints
becomes public on a pull request: annotations, a comment, a job summary. Everything it emits
goes through this module twice:

* :func:`scrub` redacts the review data before it is rendered (values with the key they sit
  under, mapping keys, names, paths, messages, multi-line text), so Markdown escaping or
  truncation can never split a secret into pieces the detector no longer recognises;
* :func:`redacting` wraps ``sys.stdout``/``sys.stderr`` for the whole command, error messages
  included, and runs :func:`redact_text` over every string written, so no output path can
  skip redaction.

The detector is a fixed list of :data:`RULES` (token shapes with a known prefix or structure,
PEM private-key blocks, credentials in URLs) plus one key rule (:func:`is_secret_key`: any
non-empty string under a password-like key). There is deliberately no entropy rule: entropy
flags every assistant UUID and commit id a diff prints (docs/security.md, "Secrets", has the
measurements on ``tests/data/secrets/``).

Pure functions of strings and data; nothing here prints.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from collections.abc import Iterator

REDACTED = "«redacted»"


@dataclass(frozen=True)
class Rule:
    """One secret shape: a name for reports and docs, and the pattern that finds it."""

    name: str
    what: str
    pattern: re.Pattern[str]
    hints: tuple[str, ...]  # the rule can only match text that contains one of these
    keep: int = 0  # the match's group ``keep`` is kept (e.g. ``postgres://user:``)

    def applies(self, text: str) -> bool:
        return any(hint in text for hint in self.hints)


def _rule(name: str, what: str, hints: str, pattern: str, flags: int = 0, keep: int = 0) -> Rule:
    return Rule(name, what, re.compile(pattern, flags), tuple(hints.split()), keep)


_B64 = r"[A-Za-z0-9+/]"
_PEM_LABEL = r"(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?"
_SEP = r"(?:\\[nr]|%0[AD]|[ \t\r\n+\->|\"'])"  # between PEM lines: newlines, escapes, diff marks

RULES: tuple[Rule, ...] = (
    _rule(
        "pem_private_key",
        "a PEM private-key block (`-----BEGIN … PRIVATE KEY-----` to its `-----END` line)",
        "-----BEGIN",
        rf"-----BEGIN {_PEM_LABEL}-----(?:(?!-----(?:BEGIN|END) ).){{0,65536}}"
        rf"-----END {_PEM_LABEL}-----",
        re.S,
    ),
    _rule(
        "pem_private_key_body",
        "a PEM BEGIN line without its END line, with the base64 lines that follow it",
        "-----BEGIN",
        rf"-----BEGIN {_PEM_LABEL}-----(?:{_SEP}+(?:[A-Za-z-]+: [^\n\\]*|{_B64}{{8,}}={{0,2}}"
        rf"|{_B64}{{1,7}}={{1,2}}))*",
    ),
    _rule(
        "url_credentials",
        "a password in a URL (`scheme://user:password@host`)",
        "://",
        r"([A-Za-z][A-Za-z0-9+.\-]{1,30}://[^\s/:@'\"`<>]*:)[^\s/@'\"`<>]+(?=@[^\s@]+)",
        keep=1,
    ),
    _rule(
        "anthropic",
        "Anthropic API keys (`sk-ant-…`)",
        "sk-ant-",
        r"(?<![A-Za-z0-9])sk-ant-[A-Za-z0-9_\-]{20,}",
    ),
    _rule(
        "openai",
        "OpenAI API keys (`sk-proj-…`, `sk-svcacct-…`, `sk-admin-…`: 20+ characters; a bare "
        "`sk-…`: 20+ characters with a digit and an upper-case letter)",
        "sk-",
        r"(?<![A-Za-z0-9])sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,}"
        r"|(?=[A-Za-z_\-]*[0-9])(?=[a-z0-9_\-]*[A-Z])[A-Za-z0-9_\-]{20,})",
    ),
    _rule(
        "stripe",
        "Stripe secret and restricted keys (`sk_live_…`, `sk_test_…`, `rk_live_…`)",
        "k_live_ k_test_",
        r"(?<![A-Za-z0-9])[rs]k_(?:live|test)_[A-Za-z0-9]{16,}",
    ),
    _rule(
        "github",
        "GitHub tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` and fine-grained `github_pat_`)",
        "gh github_pat_",
        r"(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})",
    ),
    _rule(
        "slack",
        "Slack tokens (`xoxb-`, `xoxp-`, `xoxa-`, `xoxo-`, `xoxs-`, `xoxr-`, `xapp-`) and webhooks",
        "xox xapp- ://",
        r"(?<![A-Za-z0-9])(?:xox[abposr]-[A-Za-z0-9-]{10,}|xapp-[0-9]-[A-Za-z0-9-]{10,}"
        r"|https://hooks\.slack\.com/services/[A-Za-z0-9/]{20,})",
    ),
    _rule(
        "aws_access_key_id",
        "AWS access key ids (`AKIA…`, `ASIA…`: 20 upper-case letters and digits)",
        "AKIA ASIA ABIA ACCA",
        r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}(?![0-9A-Z])",
    ),
    _rule(
        "google_api_key",
        "Google API keys (`AIza…`, 39 characters)",
        "AIza",
        r"(?<![A-Za-z0-9])AIza[0-9A-Za-z_\-]{35}",
    ),
    _rule(
        "langsmith",
        "LangSmith keys (`lsv2_pt_…`, `lsv2_sk_…`)",
        "lsv2_",
        r"(?<![A-Za-z0-9])lsv2_[a-z]{2}_[A-Za-z0-9_]{20,}",
    ),
    _rule(
        "jwt",
        "JSON Web Tokens (`eyJ….eyJ….…`: a base64url JSON header and payload)",
        "eyJ",
        r"(?<![A-Za-z0-9])eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*",
    ),
    _rule(
        "bearer",
        "an HTTP `Bearer` credential of 16+ characters",
        "earer",
        r"(\b[Bb]earer\s+)[A-Za-z0-9._~+/\-]{16,}=*",
        keep=1,
    ),
)

# A key is password-like when its last words are one of these (``db_password``,
# ``githubToken``, ``client-secret``, ``OPENAI_API_KEY``), not when it merely contains them:
# ``max_tokens``, ``tokenizer``, ``sort_key`` and ``api_key_env`` are not.
SECRET_WORDS: tuple[str, ...] = (
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "api key",
    "access key",
    "secret key",
    "private key",
    "signing key",
    "encryption key",
    "credential",
    "credentials",
    "authorization",
    "auth",
    "cookie",
    "dsn",
)
_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")
_ENV_REFERENCE = re.compile(r"^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?$|^env:[A-Za-z_][A-Za-z0-9_]*$")
_KEYS = "|".join(
    re.escape(w).replace(r"\ ", r"[_\-. ]?") for w in sorted(SECRET_WORDS, key=len, reverse=True)
)
# ``password: two words`` / ``"api_key": "…"`` in text: the value after a password-like key.
_KEY_VALUE = re.compile(
    rf"(?i)((?-i:(?<![A-Za-z])|(?<=[a-z])(?=[A-Z]))(?:{_KEYS})[\"'`\]]?[ \t]*[:=](?![:=])[ \t]*)"
    r"(\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*'|[^\s\"',}\]][^\n,}\]]*)"
)
_KEY_HINTS = ("pass", "pwd", "secret", "token", "key", "credential", "auth", "cookie", "dsn")
_HARMLESS = re.compile(r"^(?:«redacted»|null|none|true|false|~|-?[0-9.]+|\$\{?\w+\}?|\"\"|'')$")


@functools.lru_cache(maxsize=4096)
def is_secret_key(key: str) -> bool:
    """Whether ``key`` names a secret: its last word(s) say password, token, secret, …"""
    words = [w.lower() for w in _WORD_SPLIT.split(key) if w]
    if not words:
        return False
    last, pair = words[-1], " ".join(words[-2:])
    return last in SECRET_WORDS or pair in SECRET_WORDS


def find_secrets(text: str) -> list[tuple[str, str]]:
    """Every secret found in ``text``: (rule name, the matched text), in rule order."""
    found = [
        (rule.name, m.group(0))
        for rule in RULES
        if rule.applies(text)
        for m in rule.pattern.finditer(text)
    ]  # rule.applies: the same substring prefilter as redact_text
    if has_key_hint(text):
        for m in _KEY_VALUE.finditer(text):
            if not _HARMLESS.match(m.group(2).strip()):
                found.append(("secret_key_value", m.group(0)))
    return found


_TOKEN_HINTS = tuple(
    sorted(
        h
        for h in {h for rule in RULES for h in rule.hints}
        if not any(o != h and o in h for rule in RULES for o in rule.hints)
    )
)


# one search for any of the hints (the same answer as a substring test per hint)
_TOKEN_HINT = re.compile("|".join(re.escape(h) for h in _TOKEN_HINTS))


def may_hold_token(text: str) -> bool:
    """False when no rule in :data:`RULES` can match ``text``: one search for the rules'
    substrings rules out most strings (names, paths, prompts) before any rule runs."""
    return _TOKEN_HINT.search(text) is not None


def has_key_hint(text: str) -> bool:
    """Whether ``text`` (lowercased) holds a part of a password-like key's words."""
    lower = text.lower()
    return any(hint in lower for hint in _KEY_HINTS)


def looks_secret(key: str, value: Any) -> bool:
    """Whether a value under ``key`` is a secret: a known token shape anywhere in it, or any
    non-empty string under a password-like key (unless it names an environment variable)."""
    if not isinstance(value, str) or not value.strip():
        return False
    if may_hold_token(value) and any(
        rule.applies(value) and rule.pattern.search(value) for rule in RULES
    ):
        return True
    return is_secret_key(key) and not _ENV_REFERENCE.match(value.strip())


def _sub(rule: Rule, text: str) -> str:
    if rule.keep:
        return rule.pattern.sub(lambda m: m.group(rule.keep) + REDACTED, text)
    return rule.pattern.sub(REDACTED, text)


def redact_text(text: str) -> str:
    """``text`` with every secret the rules find replaced by ``«redacted»``, and the value
    after every password-like key (``password: …``, ``"token": "…"``)."""
    if not text:
        return text
    if may_hold_token(text):
        for rule in RULES:
            if rule.applies(text):
                text = _sub(rule, text)
    if not has_key_hint(text):
        return text

    def key_value(m: re.Match[str]) -> str:
        value = m.group(2)
        if _HARMLESS.match(value.strip()):
            return m.group(0)
        quote = value[0] if value[0] in "\"'" and len(value) > 1 else ""
        return f"{m.group(1)}{quote}{REDACTED}{quote}"

    return _KEY_VALUE.sub(key_value, text)


def redact(value: Any, key: str = "") -> Any:
    """A copy of ``value`` with secrets replaced: a whole value under a password-like key,
    secret tokens inside any other string, and secret-looking mapping keys."""
    if isinstance(value, dict):
        return {
            (redact_text(k) if isinstance(k, str) else k): redact(
                v, k if isinstance(k, str) else ""
            )
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return type(value)(redact(v, key) for v in value)
    if not isinstance(value, str):
        return value
    if is_secret_key(key) and looks_secret(key, value):
        return REDACTED
    return redact_text(value)


def scrub(obj: Any, key: str = "") -> Any:
    """:func:`redact` for review data: also every field of (frozen) dataclasses, so names,
    paths, messages and diffs are redacted before they are rendered."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {
            f.name: scrub(getattr(obj, f.name), f.name) for f in dataclasses.fields(obj) if f.init
        }
        return dataclasses.replace(obj, **changes)
    if isinstance(obj, dict):
        return {
            (redact_text(k) if isinstance(k, str) else k): scrub(v, k if isinstance(k, str) else "")
            for k, v in obj.items()
        }
    if isinstance(obj, (list, tuple)):
        return type(obj)(scrub(v, key) for v in obj)
    return redact(obj, key)


# --------------------------------------------------------------------------- the boundary


class RedactingStream:
    """A text stream that redacts every string written to it, then writes it to ``inner``."""

    def __init__(self, inner: TextIO) -> None:
        self._inner = inner

    def write(self, text: str) -> int:
        self._inner.write(redact_text(text) if isinstance(text, str) else text)
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._inner.flush()

    def __getattr__(self, name: str) -> Any:  # encoding, errors, isatty, fileno, ...
        return getattr(self._inner, name)


@contextmanager
def redacting() -> Iterator[None]:
    """Redact everything written to ``sys.stdout`` and ``sys.stderr`` inside the block."""
    if isinstance(sys.stdout, RedactingStream):
        yield
        return
    out, err = sys.stdout, sys.stderr
    sys.stdout = RedactingStream(out)
    sys.stderr = RedactingStream(err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err


__all__ = [
    "REDACTED",
    "RULES",
    "SECRET_WORDS",
    "RedactingStream",
    "Rule",
    "find_secrets",
    "is_secret_key",
    "looks_secret",
    "redact",
    "redact_text",
    "redacting",
    "scrub",
]
