"""The secret detector on its corpora, redaction of data, and Markdown escaping.

Markdown is checked by rendering it with cmark-gfm (GitHub's own renderer, through
``cmarkgfm``) with raw HTML allowed, then looking at the HTML a reader would get.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitassist.redact import REDACTED, find_secrets, looks_secret, redact, redact_text

DATA = Path(__file__).resolve().parent / "data" / "secrets"


def _rows(name: str) -> list[str]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line and not line.startswith("#")]


TRUE = [tuple(row.split("\t")) for row in _rows("true_positives.txt")]
FALSE = _rows("false_positives.txt")


@pytest.mark.parametrize(
    ("rule", "line", "secret"), TRUE, ids=[f"{r[0]}-{i}" for i, r in enumerate(TRUE)]
)
def test_every_true_positive_is_detected_and_redacted(rule: str, line: str, secret: str) -> None:
    for text in (line, line.replace("\\n", "\n")):  # JSON-escaped and real newlines
        assert any(name == rule for name, _ in find_secrets(text)), find_secrets(text)
        redacted = redact_text(text)
        assert secret not in redacted and REDACTED in redacted
    if rule.startswith("pem"):
        body = line.split("\\n")[1:]
        for part in body:
            if len(part) > 8 and "END" not in part:
                assert part not in redact_text(line.replace("\\n", "\n"))


@pytest.mark.parametrize("line", FALSE)
def test_no_false_positive_is_flagged_or_changed(line: str) -> None:
    assert find_secrets(line) == []
    assert redact_text(line) == line


def test_corpora_measure_full_recall_and_no_false_positives() -> None:
    found = sum(1 for _, line, _ in TRUE if find_secrets(line.replace("\\n", "\n")))
    flagged = sum(1 for line in FALSE if find_secrets(line))
    assert (found, flagged) == (len(TRUE), 0)
    assert len(TRUE) >= 30 and len(FALSE) >= 50


def test_values_keys_and_multiline_blocks_are_redacted_in_data() -> None:
    pem = (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAx1y2z3\nQ0RSTUVW==\n"
        "-----END RSA PRIVATE KEY-----"
    )
    data: dict[str, Any] = {
        "metadata": {"sk-proj-Ab3" + "x" * 30: 1},
        "db_password": "correct horse battery staple",
        "api_key_env": "OPENAI_API_KEY",
        "token": "${GITHUB_TOKEN}",
        "max_tokens": 1000,
        "system_prompt": f"Start.\n{pem}\nEnd.",
        "list": ["postgres://app:hunter2hunter2@db/x"],
    }
    out = redact(data)
    assert list(out["metadata"]) == [REDACTED]
    assert out["db_password"] == REDACTED
    assert out["api_key_env"] == "OPENAI_API_KEY" and out["token"] == "${GITHUB_TOKEN}"
    assert out["max_tokens"] == 1000
    assert out["system_prompt"] == f"Start.\n{REDACTED}\nEnd."
    assert out["list"] == [f"postgres://app:{REDACTED}@db/x"]
    assert looks_secret("password", "two words") and not looks_secret("tokenizer", "cl100k_base")


# --------------------------------------------------------------------------- markdown

HOSTILE = [
    "Bot <!-- hidden",
    "@org/team please approve",
    "![x](http://evil.example/x.png)",
    "[click](javascript:alert(1))",
    "<img src=x onerror=alert(1)>",
    "<details><summary>x",
    "a ``` fence ```` run `",
    "`",
    "x | y | z",
    "*bold* _em_ ~~gone~~ **strong**",
    "www.evil.example and https://evil.example/path",
    "# heading\n- item\n\n<script>alert(1)</script>",
    "&lt;!-- entity",
    "line one\n```\ninjected fence\n```",
]

_ALLOWED_TAGS = {
    "h2",
    "h3",
    "p",
    "strong",
    "code",
    "pre",
    "ul",
    "li",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "details",
    "summary",
    "em",
    "blockquote",
}


def _render(markdown: str) -> str:
    import cmarkgfm
    from cmarkgfm.cmark import Options

    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


def _check_inert(html: str) -> None:
    """No raw HTML, image, link or mention a hostile string could have made."""
    assert "<!--" not in html
    tags = {t.lower() for t in re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", html)}
    assert tags <= _ALLOWED_TAGS, tags - _ALLOWED_TAGS
    outside_code = re.sub(r"<code>.*?</code>|<pre>.*?</pre>", "", html, flags=re.S)
    assert not re.search(r"@[A-Za-z0-9]", outside_code), outside_code
    assert "://" not in outside_code and "www." not in outside_code


def _review(names: list[str], value: str) -> Any:
    from gitassist.problems import Problem
    from gitassist.review import AssistantChange, FieldChange, Review

    changes = tuple(
        AssistantChange(
            "changed",
            f"00000000-0000-4000-8000-{i:012}",
            name,
            "agent",
            f"assistants/{name[:20]}.yaml",
            f"assistants/{name[:20]}.yaml",
            (
                FieldChange(f"$.context['{name}']", "changed", value, name),
                FieldChange(f"$.prompt['{name}']", "changed", "a", "b", f"-a\n+{value}"),
            ),
            problems=(Problem(f"assistants/{name}.yaml", f"unknown context key `{name}`"),),
        )
        for i, name in enumerate(names)
    )
    return Review("a" * 40, "b" * 40, changes, notes=(f"note {value}",))


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_strings_render_inert_in_the_markdown_review(hostile: str) -> None:
    from gitassist.cli.review_render import render_markdown

    names = [hostile, "Second assistant"]
    markdown = render_markdown(_review(names, hostile))
    assert "<!--" not in markdown and "![" not in markdown
    html = _render(markdown)
    _check_inert(html)
    # the structure is intact: both assistants keep their section, the diff its fence
    assert html.count("<h3>") == 2 and "Second assistant" in html
    assert html.count("<pre") == 2


@settings(max_examples=30, deadline=None)
@given(
    names=st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=3),
    value=st.text(max_size=40),
)
def test_any_name_and_value_renders_inert(names: list[str], value: str) -> None:
    from gitassist.cli.review_render import render_markdown

    html = _render(render_markdown(_review(names, value)))
    _check_inert(html)
    assert html.count("<h3>") == len(names)


def test_plan_markdown_escapes_names() -> None:
    from gitassist.applied import AppliedRecord
    from gitassist.cli.apply_cmds import plan_lines
    from gitassist.plan_records import NewVersion, Plan

    version = NewVersion(
        "1" * 8, "Bot <!-- @org/team ![x](http://e/x)", 1, "c" * 40, "a.yaml", "b" * 40, "created"
    )
    plan = Plan("main", "d" * 40, AppliedRecord(None, None, {}), 1, versions=[version])
    markdown = "\n".join(plan_lines(plan, prune=False, markdown=True))
    _check_inert(_render(markdown))


def test_code_span_and_fence_cannot_be_closed_from_inside() -> None:
    from gitassist.cli import markdown

    for value in ("a`b", "``x``", "`", "a ``` b", "x ````"):
        html = _render(f"before {markdown.code(value)} after")
        assert "<code>" in html and html.count("<code>") == 1
    start, end = markdown.fence("```\n````\n", "diff")
    assert start == "`````diff" and end == "`````"


_AROUND = st.text(alphabet=st.characters(categories=["Zs", "P", "S"]), max_size=8)


@settings(max_examples=25, deadline=None)
@given(
    row=st.sampled_from([r for r in TRUE if r[0] != "secret_key_value"]),
    before=_AROUND,
    after=_AROUND,
    glue=st.sampled_from(["", "_", "=", ":", "/", "'", "(", "\n"]),
)
def test_a_token_is_redacted_whatever_punctuation_surrounds_it(
    row: tuple[str, ...], before: str, after: str, glue: str
) -> None:
    _, line, secret = row
    text = f"{before}{glue}{line.replace(chr(92) + 'n', chr(10))}{glue}{after}"
    assert secret not in redact_text(text)
