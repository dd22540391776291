"""Tasks every worker serves. Generation and media tasks arrive with their issues."""

from __future__ import annotations

import logging

from celery import shared_task

log = logging.getLogger(__name__)


@shared_task(name="studio.ping", ignore_result=False)
def ping(token: str) -> str:
    """Liveness: `studio` and the tests send it to see a worker answer."""
    log.info("ping %s", token)
    return token
