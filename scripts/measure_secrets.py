"""Measure secret detectors on tests/data/secrets/: recall on true_positives.txt, false
positives on false_positives.txt. Prints one row per detector (docs/security.md, "Secrets").

    .venv/bin/python scripts/measure_secrets.py            # gitassist's rules and the old ones
    pip install detect-secrets && .venv/bin/python scripts/measure_secrets.py   # adds it

detect-secrets is measured when it is installed; it is not a dependency of gitassist.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "secrets"

# gitassist 0.1.0's detector (validation.py before gitassist/redact.py), for comparison.
OLD = re.compile(
    r"(sk-[A-Za-z0-9_\-]{16,}|sk-ant-[A-Za-z0-9_\-]{16,}|gh[pousr]_[A-Za-z0-9]{30,}|"
    r"xox[abposr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_\-]{35}|"
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----|lsv2_[a-z]{2}_[A-Za-z0-9_]{20,})"
)


def corpus(name: str) -> list[str]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    rows = [line for line in lines if line and not line.startswith("#")]
    if name.startswith("true"):
        return [row.split("\t")[1].replace("\\n", "\n") for row in rows]
    return rows


def gitassist_rules(line: str) -> bool:
    from gitassist.redact import find_secrets

    return bool(find_secrets(line))


def detect_secrets_scan(exclude_entropy: bool) -> Callable[[str], bool]:
    from detect_secrets.core.scan import scan_line
    from detect_secrets.settings import default_settings, get_settings, transient_settings

    with default_settings():
        names = [n for n in get_settings().plugins if not (exclude_entropy and "Entropy" in n)]

    def scan(line: str) -> bool:
        with transient_settings({"plugins_used": [{"name": n} for n in names]}):
            return any(True for _ in scan_line(line))

    return scan


def measure(label: str, detect: Callable[[str], bool]) -> str:
    tps, fps = corpus("true_positives.txt"), corpus("false_positives.txt")
    found = sum(1 for line in tps if detect(line))
    false = sum(1 for line in fps if detect(line))
    precision = found / (found + false) if found + false else 1.0
    return (
        f"| {label} | {found}/{len(tps)} ({found / len(tps):.0%}) | {false}/{len(fps)} | "
        f"{precision:.0%} |"
    )


def main() -> None:
    rows = [
        measure("gitassist.redact (rules + key rule)", gitassist_rules),
        measure("gitassist 0.1.0 regex", lambda line: bool(OLD.search(line))),
    ]
    try:
        import detect_secrets  # noqa: F401
    except ImportError:
        print("detect-secrets not installed: skipped", file=sys.stderr)
    else:
        rows.append(measure("detect-secrets 1.5.0, default plugins", detect_secrets_scan(False)))
        rows.append(measure("detect-secrets 1.5.0, no entropy plugins", detect_secrets_scan(True)))
    print("| detector | true positives found (recall) | false positives | precision |")
    print("|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
