"""Shared hypothesis strategies for hostile input, and an in-process CLI runner.

``hostile_document()`` builds the text of a YAML assistant document the way a fork would:
aliases (including aliases to their own ancestor), tags, odd scalars (``.nan``, ``1e999``,
5,000-digit integers, impossible dates), deep nesting, odd keys (integers, null, complex
keys), hostile names (HTML comments, mentions, images, control characters) and planted
secrets. Each example also returns the secrets it planted (``Hostile.secrets``), so a test can
check that no output ever prints one.

``run_main(*argv)`` runs ``gitassist.cli.main.main()`` in-process and returns the exit code
with everything written to stdout and stderr, so a test can assert on the code and the text.

The CLI / ref / file-name fuzz (tests/test_fuzz_cli.py, tests/test_exit70_table.py):

* ``fuzz_examples()`` / ``fuzz_settings()``: how many examples (``GITASSIST_FUZZ_EXAMPLES``,
  default 200, 25 when ``CI`` is set);
* ``invoke_main(argv)``: ``gitassist.cli.main.main()`` in this process, its exit code and
  output, and the crash log's traceback when it exits 70;
* ``repo_state(path)``: refs, reflogs, index entries (path, mode, oid: not stat data) and
  work-tree bytes, to compare before and after a failed command;
* ``cli_argv(...)``: argument vectors built from the real command tree (``gitassist.cli.main
  .cli``), with hostile values;
* ``ref_names()`` / ``ref_contents()``: refs to plant under ``refs/assistants/`` and
  ``refs/gitassist/``;
* ``file_names()``: document file names git can store (no NUL, no ``/``).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

if TYPE_CHECKING:
    from collections.abc import Iterator

    import click

# Exit codes a user can cause (docs/exit-codes.md); 70 is a bug, 7 is the user's graph code.
USER_ERROR_CODES = frozenset({0, 1, 2, 3, 4, 5, 6, 8})


def max_examples(local: int = 200, ci: int = 25) -> int:
    """``HYPOTHESIS_MAX_EXAMPLES`` (or ``GITASSIST_FUZZ_EXAMPLES``) if set, else ``ci`` when
    ``CI`` is set, else ``local``: one count for every property test of hostile input."""
    for name in ("HYPOTHESIS_MAX_EXAMPLES", "GITASSIST_FUZZ_EXAMPLES"):
        if os.environ.get(name):
            return int(os.environ[name])
    return ci if os.environ.get("CI") else local


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


_UPPER_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _token(prefix: str, *parts: tuple[str, int]) -> st.SearchStrategy[str]:
    """``prefix`` then fixed-length runs of ``alphabet`` (joined by ``_``/``-`` as given)."""
    runs = [st.text(alphabet=alphabet, min_size=n, max_size=n) for alphabet, n in parts]
    return st.tuples(*runs).map(lambda xs: prefix + "".join(xs))


# Secrets in the shapes the real services issue (the prefixes, lengths and alphabets of the
# detector's true-positive corpus, tests/data/secrets/true_positives.txt).
secrets = st.one_of(
    _token("sk-proj-", (_ALNUM, 48)),
    _token("sk-ant-api03-", (_ALNUM, 93)),
    _token("ghp_", (_ALNUM, 36)),
    _token("github_pat_11", (_UPPER_DIGITS, 20), ("_", 1), (_ALNUM, 59)),
    _token("xoxb-", ("0123456789", 12), ("-", 1), ("0123456789", 12), ("-", 1), (_ALNUM, 24)),
    _token("AKIA", (_UPPER_DIGITS, 16)),
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


# =========================================================================== fuzz: CLI, refs, names


def fuzz_examples(local: int = 200, ci: int = 25) -> int:
    """The same count as :func:`max_examples` (``GITASSIST_FUZZ_EXAMPLES`` is its other name)."""
    return max_examples(local, ci)


def fuzz_settings(local: int = 200, ci: int = 25) -> settings:
    return settings(
        max_examples=fuzz_examples(local, ci),
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )


# --------------------------------------------------------------------------- running main()

USER_CODES = frozenset({0, 1, 2, 3, 4, 5, 6, 7, 8})
"""Exit codes a user can cause (docs/exit-codes.md); 70 is a bug in gitassist."""

_CRASH = re.compile(r"the traceback is in (\S+)")


@dataclass(frozen=True)
class CliOutcome:
    argv: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def crash(self) -> str:
        """The crash log's traceback (empty when there is none)."""
        found = _CRASH.search(self.stderr)
        return Path(found.group(1)).read_text(encoding="utf-8") if found else ""

    def explain(self) -> str:
        return f"argv={list(self.argv)!r}\nexit {self.code}\n{self.output[-3000:]}\n{self.crash()}"


def invoke_main(*argv: str, stdin: str = "") -> CliOutcome:
    """``gitassist ARGV`` through ``gitassist.cli.main.main()`` in this process.

    Any exception other than ``SystemExit`` escaping ``main()`` propagates (a bug: ``main``
    maps every error to an exit code)."""
    from gitassist.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    code: int | str | None = 0
    old_stdin, sys.stdin = sys.stdin, io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(list(argv))
            except SystemExit as exc:
                code = exc.code
    finally:
        sys.stdin = old_stdin
    if code is None:
        code = 0
    if not isinstance(code, int):
        err.write(str(code))
        code = 1
    return CliOutcome(tuple(argv), code, out.getvalue(), err.getvalue())


def assert_not_a_bug(outcome: CliOutcome) -> None:
    """A documented exit code, no internal error, no traceback."""
    assert outcome.code in USER_CODES, outcome.explain()
    assert "internal error" not in outcome.output, outcome.explain()
    assert "Traceback (most recent call last)" not in outcome.output, outcome.explain()


# --------------------------------------------------------------------------- repository state

_SKIP_DIRS = frozenset({".git", ".gitassist", "__pycache__"})


def _git(path: Path, *args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=path, capture_output=True, check=True).stdout


@dataclass(frozen=True)
class RepoState:
    refs: bytes
    head: bytes
    reflogs: tuple[tuple[str, bytes], ...]
    index: bytes
    worktree: tuple[tuple[str, bytes], ...]


def repo_state(path: Path) -> RepoState:
    """What a failed command must leave as it was: every ref (as for-each-ref lists them),
    HEAD, every reflog (file contents), the index entries (path, mode, oid, stage; not stat
    data) and the bytes of every work-tree file (caches under .gitassist/ and __pycache__/
    aside). Read in-process with pygit2 (libgit2 reads the same files git does)."""
    import pygit2

    repo = pygit2.Repository(str(path))
    gitdir = Path(repo.path)
    common = (
        Path(_git(path, "rev-parse", "--git-common-dir").decode().strip())
        if (gitdir / "commondir").exists()
        else gitdir
    )
    logs = common / "logs"
    reflogs = tuple(
        sorted(
            (str(p.relative_to(logs)), p.read_bytes())
            for p in (logs.rglob("*") if logs.is_dir() else ())
            if p.is_file()
        )
    )
    files = []
    for root, dirs, names in os.walk(path):
        dirs[:] = [d for d in dirs if d not in _SKIP_DIRS]
        for name in names:
            full = Path(root) / name
            if not full.is_symlink():
                files.append((str(full.relative_to(path)), full.read_bytes()))
    found = sorted(repo.references.iterator(), key=lambda ref: ref.name)
    refs = [f"{ref.target} {ref.name}" for ref in found if ref.name != "HEAD"]
    index = repo.index
    entries = [f"{e.mode:o} {e.id} 0\t{e.path}" for e in index]
    for conflict in index.conflicts or ():
        for stage, e in enumerate(conflict, 1):
            if e is not None:
                entries.append(f"{e.mode:o} {e.id} {stage}\t{e.path}")
    return RepoState(
        refs="\n".join(refs).encode(),
        head=(gitdir / "HEAD").read_bytes(),
        reflogs=reflogs,
        index="\0".join(sorted(entries)).encode(),
        worktree=tuple(sorted(files)),
    )


def state_diff(before: RepoState, after: RepoState) -> str:
    """Which parts of the state differ (for an assertion message)."""
    parts = []
    for name in ("refs", "head", "reflogs", "index", "worktree"):
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            if isinstance(old, tuple):
                a, b = dict(old), dict(new)
                changed = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
                parts.append(f"{name}: {changed[:10]}")
            else:
                parts.append(f"{name}: {old[:500]!r} -> {new[:500]!r}")
    return "; ".join(parts)


# --------------------------------------------------------------------------- hostile values

_CONTROL = "".join(chr(c) for c in range(1, 32)) + "\x7f\x85\u2028\u2029\u202e\u200b\ufeff"
NON_ASCII_DIGITS = ("²", "١", "١٠", "１", "٣", "๓", "𝟙", "Ⅳ", "½", "߁")

HOSTILE_STRINGS: tuple[str, ...] = (
    "",
    " ",
    "0",
    "-1",
    "1",
    "2",
    "999",
    "9" * 30,
    "9" * 5000,
    "1e999",
    "-1e999",
    "NaN",
    "Infinity",
    "-0",
    "0x10",
    "1_000",
    *NON_ASCII_DIGITS,
    "@",
    "Bot@",
    "Bot@latest",
    "Bot@0",
    "Bot@-1",
    "Bot@²",
    "Bot@١",
    "Bot@" + "9" * 30,
    "Bot@1@2",
    "@latest",
    "..",
    "../..",
    "HEAD..HEAD",
    "HEAD~1",
    "HEAD~999",
    "HEAD^{tree}",
    "main",
    "refs/heads/main",
    ":/",
    "-",
    "--",
    "-x",
    "--help",
    "x" * 300,
    "x" * 5000,
    "a\tb",
    "a\nb",
    "a\rb",
    "a\u2028b",
    "\x1b[31mred",
    "'\"",
    "{",
    "[",
    "null",
    "~",
    "true",
    "{}",
    "[]",
    '"text"',
    '{"a": NaN}',
    '{"a": 1e999}',
    '{"a": Infinity}',
    '{"a": -Infinity}',
    '{"model_name": "echo"}',
    '{"model_name": 1e999}',
    '{"recursion_limit": true}',
    '{"recursion_limit": 1e999}',
    '{"tags": [NaN]}',
    '{"a": ' + "9" * 5000 + "}",
    "a: &a [*a]",
    "a: &a [1, 2]\nb: [*a, *a, *a, *a]",
    "a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']\n"
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]",
    "!!binary aGk=",
    "!!python/object:os.system x",
    "2024-13-45",
    "2024-02-30 25:61:61",
    ".inf",
    ".nan",
    "? [a, b]\n: 1",
    "{1: a}",
    "@/nonexistent/file.json",
    "@",
    "00000000-0000-4000-8000-000000000000",
    "00000000-0000-4000-8000-0000000000A1",
    "agent",
    "nope",
    "Bot",
)


def hostile_text(max_size: int = 40) -> st.SearchStrategy[str]:
    """A hostile string: one of the fixed ones, random text (any characters but NUL, control
    characters included) or a fixed one with random text around it."""
    free = st.text(st.characters(blacklist_characters="\x00", codec="utf-8"), max_size=max_size)
    fixed = st.sampled_from(HOSTILE_STRINGS)
    control = st.text(st.sampled_from(_CONTROL + "ab@.-"), min_size=1, max_size=8)
    return st.one_of(
        fixed,
        fixed,
        free,
        control,
        st.tuples(fixed, free).map("".join),
        st.tuples(free, st.sampled_from(("@", "@latest", "@1", "@²", "..", "=")), free).map(
            "".join
        ),
    )


def _assignment() -> st.SearchStrategy[str]:
    keys = st.one_of(
        st.sampled_from(("model_name", "system_prompt", "temperature", "a.b", "a", ".", "..")),
        hostile_text(12),
    )
    return st.tuples(keys, st.sampled_from(("=", "=", "")), hostile_text()).map("".join)


# Commands that talk to a server or a network remote are left out (the fuzz must not reach
# the network); `run` executes the repository's own tiny graph.
SKIPPED_COMMANDS = frozenset({"sync", "drift", "adopt"})


def command_paths(group: click.Group) -> list[tuple[str, ...]]:
    """Every leaf command of the real command tree, as the words that name it."""
    import click

    ctx = click.Context(group)
    paths: list[tuple[str, ...]] = []

    def walk(cmd: click.Command, words: tuple[str, ...]) -> None:
        if isinstance(cmd, click.Group):
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                if sub is not None and name not in SKIPPED_COMMANDS:
                    walk(sub, (*words, name))
        else:
            paths.append(words)

    walk(group, ())
    return paths


def _command(group: click.Group, words: tuple[str, ...]) -> click.Command:
    import click

    ctx = click.Context(group)
    cmd: click.Command = group
    for word in words:
        assert isinstance(cmd, click.Group)
        sub = cmd.get_command(ctx, word)
        assert sub is not None
        cmd = sub
    return cmd


def _safe_remote(text: str) -> str:
    """A remote argument that cannot reach the network (no ``host:path``, no URL)."""
    return text.replace(":", "_") or "origin"


def _value_for(param: click.Parameter, command: tuple[str, ...]) -> st.SearchStrategy[str]:
    import click

    name = param.name or ""
    if isinstance(param.type, click.Choice):
        return st.one_of(st.sampled_from([str(c) for c in param.type.choices]), hostile_text(10))
    if name == "set":
        return _assignment()
    if name in ("context", "config", "metadata", "input"):
        return st.one_of(st.sampled_from(HOSTILE_STRINGS), hostile_text(60))
    if name in {"remote", "push"}:
        return hostile_text(20).map(_safe_remote)
    if name == "header":
        return st.tuples(hostile_text(10), st.sampled_from((":", "=", "")), hostile_text()).map(
            "".join
        )
    return hostile_text()


@st.composite
def cli_argv(
    draw: st.DrawFn, repo: str, *, commands: list[tuple[str, ...]] | None = None
) -> list[str]:
    """An argument vector for one command of the real tree: its arguments with hostile values
    (sometimes one too few or too many), a random subset of its options (flags as flags,
    options with hostile values), ``-C REPO`` always (the fuzz never leaves its repository)."""
    import click

    from gitassist.cli.main import cli

    paths = commands or command_paths(cli)
    words = draw(st.sampled_from(paths))
    cmd = _command(cli, words)
    argv: list[str] = list(words)
    for param in cmd.params:
        if isinstance(param, click.Argument):
            if words == ("init",):
                # init's directory: one level below the working directory at most (-C does
                # not apply to init, and the fuzz never writes outside its repository)
                if draw(st.booleans()):
                    name = draw(hostile_text()).replace("/", "_")
                    argv.append("d" if name in ("", ".", "..") else name)
                continue
            count = 1 if param.nargs == 1 else draw(st.integers(0, 3))
            if not param.required and draw(st.booleans()):
                count = 0
            for _ in range(count):
                value = draw(_value_for(param, words))
                if param.name == "remote":
                    value = _safe_remote(value)
                if param.name == "paths" and value.startswith("/"):
                    value = value.lstrip("/") or "."
                argv.append(value)
    options = [p for p in cmd.params if isinstance(p, click.Option) and p.name != "repo"]
    for param in draw(st.lists(st.sampled_from(options), max_size=4)) if options else []:
        flag = draw(st.sampled_from(param.opts))
        if param.is_flag:
            argv.append(flag)
            continue
        value = draw(_value_for(param, words))
        if draw(st.booleans()) and flag.startswith("--"):
            argv.append(f"{flag}={value}")
        else:
            argv += [flag, value]
    if draw(st.integers(0, 9)) == 0 and words != ("init",):
        argv.append(draw(hostile_text(10)))  # one argument too many
    if any(isinstance(p, click.Option) and p.name == "repo" for p in cmd.params):
        argv += ["-C", repo]
    return argv


# --------------------------------------------------------------------------- refs

_REF_CHARS = st.characters(
    blacklist_characters="\x00 ~^:?*[\\\x7f/",
    blacklist_categories=("Cc", "Cs"),
    codec="utf-8",
)
_SEGMENT = st.one_of(
    st.sampled_from(
        (
            "latest",
            "versions",
            "applied",
            "quarantine",
            "not-a-uuid",
            "00000000-0000-4000-8000-0000000000A1",
            "1",
            "01",
            "0",
            "999999999999",
            "²",
            "١",
            "v1",
            "-1",
            "x" * 200,
        )
    ),
    st.text(_REF_CHARS, min_size=1, max_size=20),
)


def _valid_ref(name: str) -> bool:
    """git check-ref-format's rules (without running git for each candidate)."""
    parts = name.split("/")
    return not (
        ".." in name
        or "@{" in name
        or name.endswith(".")
        or name == "@"
        or any(not p or p.startswith(".") or p.endswith(".lock") for p in parts)
    )


@st.composite
def ref_names(draw: st.DrawFn, assistant_ids: tuple[str, ...] = ()) -> str:
    """A ref name under refs/assistants/ or refs/gitassist/ that git accepts: the shapes
    gitassist writes with random parts (an existing assistant id, a bad id, a bad number, an
    extra level) and random names."""
    ident = st.one_of(st.sampled_from(assistant_ids or ("not-a-uuid",)), _SEGMENT)
    number = st.one_of(
        st.sampled_from(("1", "2", "3", "999", "0", "01", "²", "١", "9" * 30, "1.0")),
        _SEGMENT,
    )
    shapes = st.one_of(
        st.builds(lambda i: f"refs/assistants/{i}/latest", ident),
        st.builds(lambda i, n: f"refs/assistants/{i}/versions/{n}", ident, number),
        st.builds(lambda i, s: f"refs/assistants/{i}/{s}", ident, _SEGMENT),
        st.builds(lambda i, s: f"refs/assistants/{i}/latest/{s}", ident, _SEGMENT),
        st.builds(lambda s: f"refs/assistants/{s}", _SEGMENT),
        st.builds(lambda s: f"refs/gitassist/{s}", _SEGMENT),
        st.just("refs/gitassist/applied"),
        st.builds(lambda s: f"refs/gitassist/applied/{s}", _SEGMENT),
        st.builds(lambda s: f"refs/gitassist/quarantine/origin/{s}", _SEGMENT),
    )
    name = draw(shapes)
    if len(name.encode()) > 240 or not _valid_ref(name):
        name = draw(st.sampled_from(("refs/assistants/x/latest", "refs/gitassist/x")))
    return name


def _json_values() -> st.SearchStrategy[Any]:
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.sampled_from((0, 1, 2, 3, -1, 10**9, 10**9 + 1, 10**30)),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
        st.sampled_from(("abc", "", "0" * 40, "f" * 40, "main", "assistants/bot.yaml")),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=6,
    )


@dataclass(frozen=True)
class RefContent:
    """What a planted ref points at: ``kind`` is ``blob``, ``tree``, ``commit``, ``tag`` (an
    object made for it, its message ending in ``data`` as gitassist's do, or ``text`` when
    ``data`` is None) or ``existing`` (an object already in the repository, by ``target``:
    a ref name or revision)."""

    kind: str
    data: Any = None
    text: str = ""
    target: str = "HEAD"
    tag_type: str = "auto"  # the type line of a tag: the object's own type, or a lie
    with_parent: bool = False


@st.composite
def ref_contents(draw: st.DrawFn, templates: tuple[dict[str, Any], ...] = ()) -> RefContent:
    """Random objects for a planted ref: blobs, trees, commits and tags whose messages carry
    random JSON, or gitassist's own JSON (``templates``: a real pointer, tag or apply record)
    with fields dropped or replaced by random values; or an existing object."""
    base = draw(st.sampled_from(templates)) if templates else {}
    data: Any = dict(base)
    if base and draw(st.booleans()):
        for key in draw(st.lists(st.sampled_from(sorted(base)), max_size=3)):
            if draw(st.booleans()):
                data.pop(key, None)
            else:
                data[key] = draw(_json_values())
    elif not base or draw(st.booleans()):
        data = draw(_json_values())
    text = ""
    if draw(st.integers(0, 4)) == 0:
        data = None
        text = draw(st.one_of(st.text(max_size=40), st.sampled_from(("{", "{}", '{"a": NaN}'))))
    kind = draw(st.sampled_from(("commit", "commit", "tag", "tag", "blob", "tree", "existing")))
    return RefContent(
        kind=kind,
        data=data,
        text=text,
        target=draw(st.sampled_from(templates_targets)),
        tag_type=draw(st.sampled_from(("auto", "auto", "auto", "commit", "blob", "tree"))),
        with_parent=draw(st.booleans()),
    )


templates_targets = (
    "HEAD",
    "HEAD^{tree}",
    "HEAD~0:graph.py",
    "{latest}",
    "{v1}",
    "{v2}",
    "{applied}",
)
"""Revisions ``RefContent.target`` names; ``{name}`` is filled in by the test."""


def message_of(content: RefContent, summary: str = "forged") -> str:
    body = json.dumps(content.data, indent=2) if content.data is not None else content.text
    return f"{summary}\n\n{body}\n"


# --------------------------------------------------------------------------- file names

FILE_NAME_MAX_BYTES = 255  # what the file system stores (git itself has no limit)
_NAME_CHARS = st.characters(
    blacklist_characters="\x00/", codec="utf-8", blacklist_categories=("Cs",)
)


def _fits(name: str) -> bool:
    return name not in (".", "..") and 0 < len(name.encode()) <= FILE_NAME_MAX_BYTES


@st.composite
def file_names(draw: st.DrawFn) -> str:
    """A document's file name (one path component) git can store and the file system can
    hold: tabs, newlines, CR, U+2028, quotes, leading dashes, very long names, ``.yaml.yml``,
    mostly ending in ``.yaml`` or ``.yml`` (else it is not a document)."""
    odd = st.sampled_from(
        (
            "\t",
            "\n",
            "\r",
            "\u2028",
            "\u2029",
            '"',
            "'",
            "\\",
            " ",
            "-",
            "--",
            "#",
            "*",
            "?",
            "[",
            "$",
            "`",
            "\x1b",
            "\x7f",
            ".",
            "é",
            "e\u0301",
            "\u202e",
            "😀",
            "\ufeff",
            ":",
            "@",
            "@1",
            "~",
            "%",
            "\x01",
        )
    )
    stem = draw(
        st.one_of(
            st.text(_NAME_CHARS, min_size=1, max_size=30),
            st.lists(st.one_of(odd, st.text(_NAME_CHARS, max_size=4)), min_size=1, max_size=8).map(
                "".join
            ),
            st.sampled_from(("-bot", "--help", "-C", ".hidden", "bot.yaml", "x" * 240, "é" * 120)),
        )
    )
    suffix = draw(st.sampled_from((".yaml", ".yml", ".yaml.yml", ".yml.yaml", ".YAML", "")))
    name = stem + suffix
    while len(name.encode()) > FILE_NAME_MAX_BYTES:
        stem = stem[: len(stem) // 2]
        name = stem + suffix
    if not _fits(name) or name in (".git", ".gitassist"):
        name = "odd name.yaml"
    return name
