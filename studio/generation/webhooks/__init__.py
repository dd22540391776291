"""Durable, signed webhooks when a task ends.

models.py    the outbox (webhook_deliveries): one row per task end, written by a
             trigger in the task's end transaction; also the delivery log
outbox.py    claiming due attempts (lease, SKIP LOCKED) and recording outcomes
addresses.py the address rules, resolve once and connect to that address
delivery.py  WebhookSender: signs and sends from the workers' maintenance loops
service.py   setting the webhook, the delivery log and re-sending (admins)
"""

from studio.generation.webhooks.delivery import WebhookSender, sign
from studio.generation.webhooks.service import (
    DeliveryView,
    check_webhook_url,
    list_deliveries,
    resend_delivery,
    set_webhook,
)

__all__ = [
    "DeliveryView",
    "WebhookSender",
    "check_webhook_url",
    "list_deliveries",
    "resend_delivery",
    "set_webhook",
    "sign",
]
