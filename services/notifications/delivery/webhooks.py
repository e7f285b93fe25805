"""The ``webhook`` channel: an HTTP POST of the notification's CloudEvent, signed.

It goes to the URL the subscription has at the attempt, signed with the secret it has then
(``delivery.recipients``): a URL and its secret always go together.

The body is the structured-mode CloudEvent (``application/cloudevents+json``). With a
secret, ``Parity-Signature`` carries ``t=<unix seconds>,v1=<HMAC-SHA256 hex>`` over
``"<t>." + body`` (see :mod:`services.notifications.delivery.signature`); each attempt is
signed afresh. A 2xx answer is a delivery; 408, 429 and 5xx are tried again; any other
answer is final. Redirects are not followed (a client following a 301 or 302 would send a
GET without the body, and a signed notification does not go to a URL nobody subscribed):
a 3xx is final like a 4xx, its reason naming where it points, so that the subscription's
URL can be corrected.
"""

from __future__ import annotations

import aiohttp

from services.notifications.delivery.events import notification_event
from services.notifications.delivery.outbox import DeliveryFailed
from services.notifications.delivery.recipients import SubscriptionLookup, current_recipient
from services.notifications.delivery.signature import SIGNATURE_HEADER, signature
from services.notifications.documents import Document
from shared.clock import Clock
from shared.envelope import PUBLISHED_CONTENT_TYPE, encode_structured
from shared.outbound import Notification

DELIVERY_HEADER = "Parity-Delivery-Id"
RETRYABLE_STATUSES = frozenset({408, 429})


class WebhookSender:
    def __init__(
        self,
        *,
        session: aiohttp.ClientSession,
        subscription_of: SubscriptionLookup,
        timer: Clock,
        timeout: float,
    ) -> None:
        self._session = session
        self._subscription_of = subscription_of  # subscription id → it, now (None: removed)
        self._timer = timer
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def deliver(self, delivery: Document) -> None:
        subscription, url = await current_recipient(delivery, subscription_of=self._subscription_of)
        secret = subscription.secret.get_secret_value() if subscription.secret else None
        notification = Notification.model_validate(delivery["notification"])
        body, _ = encode_structured(notification_event(notification))
        headers = {"Content-Type": PUBLISHED_CONTENT_TYPE, DELIVERY_HEADER: delivery["_id"]}
        if secret:
            timestamp = int(self._timer.now().timestamp())
            headers[SIGNATURE_HEADER] = signature(secret.encode(), timestamp, body)
        try:
            async with self._session.post(
                url,
                data=body,
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,
            ) as response:
                status = response.status
                reason = f"HTTP {status} {response.reason}"
                if 300 <= status < 400:
                    location = response.headers.get("Location", "nowhere")
                    reason += f": a redirect to {location}, not followed"
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DeliveryFailed(f"HTTP: {error!r}") from error
        if 200 <= status < 300:
            return
        retryable = status >= 500 or status in RETRYABLE_STATUSES
        raise DeliveryFailed(reason, permanent=not retryable)
