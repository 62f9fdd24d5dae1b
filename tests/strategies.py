"""Shared hypothesis strategies for hostile input, and an in-process CLI runner.

``hostile_document()`` builds the text of a YAML assistant document the way a fork would:
aliases (including aliases to their own ancestor), tags, odd scalars (``.nan``, ``1e999``,
5,000-digit integers, impossible dates), deep nesting, odd keys (integers, null, complex
keys), hostile names (HTML comments, mentions, images, control characters) and planted
secrets. Each example also returns the secrets it planted (``Hostile.secrets``), so a test can
check that no output ever prints one.

``run_main(*argv)`` runs ``gitassist.cli.main.main()`` in-process and returns the exit code
with everything written to stdout and stderr, so a test can assert on the code and the text.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

if TYPE_CHECKING:
    from collections.abc import Iterator

# Exit codes a user can cause (docs/exit-codes.md); 70 is a bug, 7 is the user's graph code.
USER_ERROR_CODES = frozenset({0, 1, 2, 3, 4, 5, 6, 8})


def max_examples(local: int = 200, ci: int = 25) -> int:
    """``HYPOTHESIS_MAX_EXAMPLES`` if set, else ``ci`` when ``CI=true``, else ``local``."""
    if "HYPOTHESIS_MAX_EXAMPLES" in os.environ:
        return int(os.environ["HYPOTHESIS_MAX_EXAMPLES"])
    return ci if os.environ.get("CI", "").lower() == "true" else local


def hostile_settings(local: int = 200, ci: int = 25) -> settings:
    return settings(
        max_examples=max_examples(local, ci),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# --------------------------------------------------------------------------- running the CLI


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


HANG_GUARD_SECONDS = 120  # a hang guard only; work is bounded by counts, never timed


@contextlib.contextmanager
def _hang_guard() -> Iterator[None]:
    def fire(signum: int, frame: object) -> None:
        raise TimeoutError(f"a command ran longer than {HANG_GUARD_SECONDS} s")

    if not hasattr(signal, "SIGALRM"):
        yield
        return
    old = signal.signal(signal.SIGALRM, fire)
    signal.alarm(HANG_GUARD_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def run_main(*argv: str) -> Outcome:
    """``gitassist ARGV`` in this process: exit code, stdout and stderr."""
    from gitassist.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    code: int | str | None = 0
    with _hang_guard(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(argv))
        except SystemExit as exc:
            code = exc.code
    if code is None:
        code = 0
    if not isinstance(code, int):
        err.write(str(code))
        code = 1
    return Outcome(code, out.getvalue(), err.getvalue())


def assert_user_outcome(outcome: Outcome) -> None:
    """Exit 0 or a documented user-error code, never 70, never a traceback."""
    assert outcome.code in USER_ERROR_CODES, (outcome.code, outcome.output[-2000:])
    assert "Traceback" not in outcome.output, outcome.output[-2000:]
    assert "internal error" not in outcome.output, outcome.output[-2000:]


def printed_secrets(outcome: Outcome, planted: list[str]) -> list[str]:
    """The planted secrets that appear in the output (for "never prints a planted secret")."""
    return [secret for secret in planted if secret in outcome.output]


# --------------------------------------------------------------------------- building YAML

SECRET_PREFIXES = ("sk-proj-", "sk-ant-api03-", "ghp_", "github_pat_11", "xoxb-", "AKIA")
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

ODD_SCALARS = (
    "~",
    "null",
    "",
    "true",
    "yes",
    "on",
    "010",
    "0o17",
    "0x1F",
    "0xFFFFFFFFFFFFFFFFFFFF",
    "-0",
    "1_000",
    "9" * 5000,
    "-" + "9" * 30,
    ".inf",
    "-.inf",
    ".nan",
    "1e999",
    "-1e999",
    "1e-999",
    "NaN",
    "Infinity",
    "2024-01-31",
    "2024-13-45",
    "2024-02-30 25:61:61",
    "2024-02-29T12:00:00Z",
    "12:30:00",
    "!!binary aGk=",
    "!!set {a}",
    "!!omap [a: 1]",
    "!!python/object:os.system x",
    "!!python/name:os.system",
    "!foo bar",
    "!!str 5",
    "!!int x",
    "!!float x",
    "!!merge x",
    "'quoted'",
    '"\\u0000"',
    '"\\ud800"',
    '"caf\\xe9"',
    "'<!-- hidden'",
    "'@everyone'",
    "'![x](https://example.com/x.png)'",
    "'<img src=x onerror=alert(1)>'",
    "'../../etc/passwd'",
    "'line\\nbreak'",
    '"tab\\there"',
    '"ls\\u2028sep"',
)
ODD_KEYS = (
    "1",
    "-1",
    "null",
    "~",
    "true",
    "1.5",
    ".nan",
    "2024-01-01",
    "!!binary aGk=",
    "'1'",
    "'<!-- x'",
    "'@here'",
    '"\\t"',
    "'a.b'",
    "'$ref'",
    "'__proto__'",
    "? [a, b]",
    "? {a: 1}",
)
HOSTILE_NAMES = (
    "Bot <!-- hidden",
    "@everyone ping",
    "![img](https://example.com/x.png)",
    "<script>alert(1)</script>",
    "name with\ttab",
    "a" * 300,
    "../../outside",
    "`code` **bold** [link](javascript:alert(1))",
    "\u202eevil",
    "Bot\u2028two",
)


@dataclass
class Hostile:
    """One generated document: its text and the secrets planted in it."""

    text: str
    secrets: list[str] = field(default_factory=list)


def _quote(text: str) -> str:
    """A double-quoted YAML scalar that holds ``text`` exactly."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 or ch in "\u2028\u2029\ufeff":
            out.append(f"\\u{ord(ch):04x}")
        elif 0xD800 <= ord(ch) <= 0xDFFF:
            out.append("?")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


secrets = st.builds(
    lambda prefix, body: prefix + body,
    st.sampled_from(SECRET_PREFIXES),
    st.text(alphabet=_ALNUM, min_size=24, max_size=48),
)


class _Builder:
    """Renders random nodes in flow style, tracking anchors for aliases."""

    def __init__(self, draw: st.DrawFn, *, mild: bool = False) -> None:
        self.draw = draw
        self.mild = mild  # only valid JSON values, no cycles: documents that get further
        self.anchors: list[str] = []
        self.open: list[str] = []
        self.secrets: list[str] = []

    def scalar(self) -> str:
        kind = self.draw(st.integers(1 if self.mild else 0, 6))
        if kind == 0:
            return self.draw(st.sampled_from(ODD_SCALARS))
        if kind == 1:
            bound = 2**63 - 1 if self.mild else 2**80
            return str(self.draw(st.integers(-bound, bound)))
        if kind == 2:
            wild = not self.mild
            number = self.draw(st.floats(allow_nan=wild, allow_infinity=wild))
            return repr(number) if wild or "e" not in repr(number) else f"{number:.6f}"
        if kind == 3:
            secret = self.draw(secrets)
            self.secrets.append(secret)
            return _quote(secret)
        if kind == 4:
            return _quote(self.draw(st.sampled_from(HOSTILE_NAMES)))
        return _quote(self.draw(st.text(max_size=20)))

    def key(self) -> str:
        kind = self.draw(st.integers(1 if self.mild else 0, 4))
        if kind == 0:
            return self.draw(st.sampled_from(ODD_KEYS))
        if kind == 1:
            secret = self.draw(secrets)
            self.secrets.append(secret)
            return _quote(secret)
        return _quote(self.draw(st.text(min_size=1, max_size=12)))

    def node(self, depth: int) -> str:
        choice = self.draw(st.integers(0, 9))
        if choice <= 3 or depth > 6:
            return self.scalar()
        targets = self.anchors if self.mild else self.anchors + self.open  # open: a cycle
        if choice == 4 and targets:
            return "*" + self.draw(st.sampled_from(targets))
        if choice == 5 and not self.mild:
            levels = self.draw(st.integers(1, 160))
            return "[" * levels + self.scalar() + "]" * levels
        anchor = ""
        name = ""
        if self.draw(st.booleans()):
            name = f"a{len(self.anchors) + len(self.open)}"
            anchor = f"&{name} "
            self.open.append(name)
        if choice % 2:
            items = [self.node(depth + 1) for _ in range(self.draw(st.integers(0, 9)))]
            text = anchor + "[" + ", ".join(items) + "]"
        else:
            pairs = [
                f"{self.key()}: {self.node(depth + 1)}" for _ in range(self.draw(st.integers(0, 5)))
            ]
            text = anchor + "{" + ", ".join(pairs) + "}"
        if name:
            self.open.remove(name)
            self.anchors.append(name)
        return text


@st.composite
def hostile_document(draw: st.DrawFn) -> Hostile:
    """A YAML assistant document, mostly well-formed at the top, hostile inside."""
    mild = draw(st.booleans())
    b = _Builder(draw, mild=mild)
    lines = []
    if mild or draw(st.integers(0, 9)) > 0:
        lines.append(f"assistant_id: {uuid.UUID(int=draw(st.integers(0, 2**128 - 1)))}")
    else:
        lines.append(f"assistant_id: {b.scalar()}")
    graphs = ["agent"] if mild else ["agent", "agent", "nope"]
    lines.append(f"graph_id: {draw(st.sampled_from(graphs))}")
    lines.append(f"name: {_quote(draw(st.sampled_from(HOSTILE_NAMES)))}")
    context = [f"  {_quote('model_name')}: echo"]
    if mild:  # the test schema's keys only, so the document can be valid
        if draw(st.booleans()):
            context.append(f"  system_prompt: {_prompt(b)}")
    else:
        for _ in range(draw(st.integers(0, 4))):
            context.append(f"  {b.key()}: {b.node(0)}")
    lines.append("context:\n" + "\n".join(context))
    if draw(st.booleans()):
        if mild:
            limit = draw(st.integers(1, 10_000))
            lines.append(f"config: {{recursion_limit: {limit}, tags: [{_prompt(b)}]}}")
        else:
            lines.append(f"config: {{recursion_limit: {b.scalar()}, tags: [{b.scalar()}]}}")
    if draw(st.booleans()):
        body = b.node(0)
        lines.append(f"metadata: {body if not mild or body.startswith('{') else '{}'}")
    if not mild and draw(st.integers(0, 4)) == 0:
        lines.append(f"{b.key()}: {b.node(0)}")
    return Hostile("\n".join(lines) + "\n", b.secrets)


def _prompt(b: _Builder) -> str:
    """A string scalar: a planted secret, a hostile name or random text."""
    kind = b.draw(st.integers(0, 2))
    if kind == 0:
        secret = b.draw(secrets)
        b.secrets.append(secret)
        return _quote(f"use {secret} to call the API")
    if kind == 1:
        return _quote(b.draw(st.sampled_from(HOSTILE_NAMES)))
    return _quote(b.draw(st.text(max_size=40)))


def alias_bomb(levels: int, width: int = 9) -> str:
    """``a: &a [lol × width]`` then ``levels`` levels of ``[*prev × width]``: width^(levels+1)."""
    lines = ["a: &a [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels + 1):
        prev, name = f"a{i - 1}" if i > 1 else "a", f"a{i}"
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * width) + "]")
    return "\n".join(lines) + "\n"
