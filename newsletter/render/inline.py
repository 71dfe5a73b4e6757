"""Stage 3: premailer moves <style> rules into style attributes, keeping what clients need."""

from __future__ import annotations

import logging

import cssutils
from premailer import Premailer

__all__ = ["inline_css"]

# premailer's disable_validation does not reach the properties cssutils parses (they have no
# parent yet, so they validate anyway), and the first validation compiles some forty regular
# expressions: about 30 ms of every cold `build`. Its findings are only logged, and premailer's
# logging is off, so without the profiles it validates against the output is the same.
cssutils.profile.removeProfile(all=True)
cssutils.log.setLevel(logging.CRITICAL)  # else each property it cannot place is a warning

DOCTYPE = "<!doctype html>"


def inline_css(html: str) -> str:
    """Inline CSS without touching the network, keeping ``!important`` and the @media rules.

    strip_important=False: MJML's desktop column widths only beat the inlined mobile widths
    through !important; stripping it collapses multi-column layouts. premailer drops the
    doctype, which changes how clients lay the page out, so it is put back.
    premailer copies CSS into presentational attributes for old clients, but not width and
    height: it would turn MJML's pixel widths into width="100%" (Outlook then shows images at
    their natural size) and write the invalid height="auto".
    """
    inlined = Premailer(
        html,
        allow_network=False,
        strip_important=False,
        keep_style_tags=False,
        disable_validation=True,
        disable_basic_attributes=["height", "width"],
        cssutils_logging_level=logging.CRITICAL,
    ).transform()
    inlined = str(inlined)
    if inlined.lstrip().lower().startswith("<!doctype"):
        return inlined
    return f"{DOCTYPE}\n{inlined}"
