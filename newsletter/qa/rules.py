"""Pre-send QA: the rules that say what would clip, break, shut out a reader or break the law.

Each rule reads the sample reader's finished message (the HTML and text a subscriber gets,
and its headers) and returns findings with a severity, where the problem is and how to fix
it. `newsletter check` prints them; `newsletter build` counts them; an error fails both.
The rules live by family: size, content, compliance, accessibility, client support, and the
sending identity; a new rule joins its family's module and ``RULES``.
"""

from __future__ import annotations

from newsletter.qa.accessibility import accessibility
from newsletter.qa.compatibility import client_support
from newsletter.qa.compliance import compliance, sending_identity
from newsletter.qa.content import images, links, punctuation
from newsletter.qa.findings import Finding, Inspection, Rule
from newsletter.qa.size import preview, size

__all__ = ["RULES", "run_rules"]


def run_rules(inspection: Inspection) -> list[Finding]:
    """Every rule's findings, errors first."""
    findings = [finding for rule in RULES for finding in rule(inspection)]
    return sorted(findings, key=lambda f: f.severity != "error")


RULES: tuple[Rule, ...] = (
    size,
    preview,
    images,
    links,
    punctuation,
    compliance,
    sending_identity,
    accessibility,
    client_support,
)
