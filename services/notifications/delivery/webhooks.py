"""The ``webhook`` channel: an HTTP POST of the notification's CloudEvent, signed.

The body is the structured-mode CloudEvent (``application/cloudevents+json``). With a
secret, ``Parity-Signature`` carries ``t=<unix seconds>,v1=<HMAC-SHA256 hex>`` over
``"<t>." + body`` (see :mod:`services.notifications.delivery.signature`); each attempt is
signed afresh. A 2xx answer is a delivery; 408, 429 and 5xx are tried again; any other
answer is final.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp

from services.notifications.delivery.events import notification_event
from services.notifications.delivery.outbox import DeliveryFailed
from services.notifications.delivery.signature import SIGNATURE_HEADER, signature
from services.notifications.documents import Document
from shared.clock import Clock
from shared.contract import Notification
from shared.envelope import PUBLISHED_CONTENT_TYPE, encode_structured

DELIVERY_HEADER = "Parity-Delivery-Id"
RETRYABLE_STATUSES = frozenset({408, 429})

SecretLookup = Callable[[str], Awaitable[tuple[bool, str | None]]]


class WebhookSender:
    def __init__(
        self,
        *,
        session: aiohttp.ClientSession,
        secret_of: SecretLookup,
        timer: Clock,
        timeout: float,
    ) -> None:
        self._session = session
        self._secret_of = secret_of  # subscription id → (exists, secret)
        self._timer = timer
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def deliver(self, delivery: Document) -> None:
        exists, secret = await self._secret_of(delivery["subscription_id"])
        if not exists:
            raise DeliveryFailed("the subscription was removed", permanent=True)
        notification = Notification.model_validate(delivery["notification"])
        body, _ = encode_structured(notification_event(notification))
        headers = {"Content-Type": PUBLISHED_CONTENT_TYPE, DELIVERY_HEADER: delivery["_id"]}
        if secret:
            timestamp = int(self._timer.now().timestamp())
            headers[SIGNATURE_HEADER] = signature(secret.encode(), timestamp, body)
        try:
            async with self._session.post(
                delivery["address"], data=body, headers=headers, timeout=self._timeout
            ) as response:
                status = response.status
                reason = response.reason
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DeliveryFailed(f"HTTP: {error!r}") from error
        if 200 <= status < 300:
            return
        retryable = status >= 500 or status in RETRYABLE_STATUSES
        raise DeliveryFailed(f"HTTP {status} {reason}", permanent=not retryable)
