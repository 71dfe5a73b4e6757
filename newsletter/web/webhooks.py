"""/webhooks/sendgrid: SendGrid's signed event webhook.

The signature is checked over the raw body before anything is parsed; a bad or stale one
gets 403 and touches nothing. A batch is applied in one transaction (deduplicated by event
id, so SendGrid's retries are harmless) and answered 204; a malformed body gets 400 so it is
not retried forever; a database failure gets 503 so SendGrid retries later.
"""

from __future__ import annotations

from sqlalchemy.exc import OperationalError
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from newsletter.delivery.events import apply_events
from newsletter.providers.sendgrid_events import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureError,
    parse_events,
    verify_signature,
)
from newsletter.web.state import log, web

__all__ = ["routes"]


async def sendgrid(request: Request) -> Response:
    app = web(request)
    key = app.settings.sendgrid_webhook_public_key
    body = await request.body()
    try:
        if not key:
            raise SignatureError("no public key configured")
        verify_signature(
            key,
            request.headers.get(SIGNATURE_HEADER, ""),
            request.headers.get(TIMESTAMP_HEADER, ""),
            body,
        )
    except SignatureError as exc:
        log.warning("sendgrid webhook refused: %s", exc)
        return PlainTextResponse("forbidden\n", status_code=403)
    try:
        events = parse_events(body)
    except ValueError as exc:
        log.warning("sendgrid webhook: unreadable batch: %s", exc)
        return PlainTextResponse(f"bad request: {exc}\n", status_code=400)
    try:
        summary = await app.writer.run(
            lambda: apply_events(
                app.store, events, soft_bounce_limit=app.settings.soft_bounce_limit
            )
        )
    except OperationalError:
        log.exception("sendgrid webhook: database busy, SendGrid will retry")
        return PlainTextResponse("try again later\n", status_code=503)
    log.info("sendgrid webhook: %s", summary)
    return Response(status_code=204)


routes = [Route("/webhooks/sendgrid", sendgrid, methods=["POST"])]
