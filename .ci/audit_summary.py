"""The verdict of ``make audit`` from pip-audit's JSON report (``pip-audit -f json``).

pip-audit counts a dependency it could not look up (PyPI unreachable, a package it cannot find)
as skipped, then still prints "No known vulnerabilities found". A gate that audited nothing must
not read as a clean bill, so this says how many dependencies were really audited:

* vulnerabilities: each one, exit code 1;
* nothing audited: ``pip-audit: SKIPPED`` with the reason, exit code 0 (a visible skip, as pytest
  shows one: the audit could not run here, which is not a pass);
* some skipped: the audited count and the names that were not, exit code 0;
* everything audited and clean: the count, exit code 0.

Usage: ``python .ci/audit_summary.py REPORT.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def summary(report: dict[str, Any]) -> tuple[int, list[str]]:
    """The exit code and the lines to print for pip-audit's ``report``."""
    dependencies = report.get("dependencies", [])
    skipped = [d for d in dependencies if d.get("skip_reason")]
    audited = [d for d in dependencies if not d.get("skip_reason")]
    vulnerable = [d for d in audited if d.get("vulns")]
    total = len(dependencies)
    if vulnerable:
        lines = [
            f"pip-audit: {v['id']} in {d['name']} {d.get('version', '')}"
            f" (fixed in: {', '.join(v.get('fix_versions') or ['no release yet'])})"
            for d in vulnerable
            for v in d["vulns"]
        ]
        return 1, [*lines, f"pip-audit: FAILED: {len(lines)} known vulnerabilities"]
    if not audited:
        reason = skipped[0]["skip_reason"] if skipped else "no dependencies in the report"
        return 0, [
            f"pip-audit: SKIPPED: none of the {total} locked dependencies could be audited, so "
            f"this is NOT a clean bill (first reason: {reason}). Run `make audit` where PyPI's "
            "vulnerability data can be reached."
        ]
    lines = [f"pip-audit: audited {len(audited)} of {total} dependencies: no known vulnerabilities"]
    if skipped:
        names = ", ".join(sorted(d["name"] for d in skipped))
        lines.append(f"pip-audit: NOT audited ({len(skipped)}): {names}")
    return 0, lines


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: audit_summary.py REPORT.json", file=sys.stderr)
        return 2
    code, lines = summary(json.loads(Path(argv[0]).read_text(encoding="utf-8")))
    for line in lines:
        print(line)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
