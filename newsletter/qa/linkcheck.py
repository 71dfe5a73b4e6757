"""`newsletter check --check-links`: ask every link of the issue whether it still answers.

Off by default (it is the only check that uses the network, and never runs in tests against
anything but 127.0.0.1). Each distinct URL gets a HEAD request, or a GET when the server does
not do HEAD, a few at a time; per-recipient links (unsubscribe, web view) are the web app's
own and are left out.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from newsletter.qa.findings import Finding

__all__ = ["check_links"]

USER_AGENT = "newsletter-linkcheck/1 (+https://example.com/newsletter)"


def check_links(urls: Iterable[str], *, timeout: float = 10.0, workers: int = 8) -> list[Finding]:
    """Findings for links that answer 4xx/5xx (errors) or not at all (warnings), in URL order."""
    unique = sorted({u for u in urls if u.startswith(("https://", "http://"))})
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda url: _probe(url, timeout), unique))
    return [finding for finding in results if finding is not None]


def _probe(url: str, timeout: float) -> Finding | None:
    for method in ("HEAD", "GET"):
        request = urllib.request.Request(url, method=method, headers={"User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=timeout):
                return None
        except urllib.error.HTTPError as exc:
            if method == "HEAD" and exc.code in (403, 405, 501):
                continue  # some servers refuse HEAD but serve GET
            return Finding(
                "error",
                "link-broken",
                f"link answers {exc.code} {exc.reason}",
                url,
                "fix or remove the link",
            )
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            return Finding(
                "warning",
                "link-unreachable",
                f"link did not answer: {reason}",
                url,
                "check the address",
            )
    return None
