"""Who a queued e-mail or webhook goes to: its subscription as it is at the attempt.

A delivery is queued for one channel of one subscription; each attempt reads the
subscription again, so a removed subscription, or one that no longer has that channel,
fails at once (permanently), and a changed address, webhook URL, secret or language is the
one used. (Which notifications a subscription wants is decided once, when they are raised.)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from services.notifications.delivery.outbox import DeliveryFailed
from services.notifications.documents import Document
from services.notifications.domain.subscriptions import Subscription

SubscriptionLookup = Callable[[str], Awaitable[Subscription | None]]
ADDRESSES = {"email": "an e-mail address", "webhook": "a webhook URL"}


async def current_recipient(
    delivery: Document, *, subscription_of: SubscriptionLookup
) -> tuple[Subscription, str]:
    """The delivery's subscription now, and its address on the delivery's channel."""
    subscription = await subscription_of(delivery["subscription_id"])
    if subscription is None:
        raise DeliveryFailed("the subscription was removed", permanent=True)
    address = dict(subscription.channels()).get(delivery["channel"])
    if address is None:
        what = ADDRESSES.get(delivery["channel"], delivery["channel"])
        raise DeliveryFailed(f"the subscription no longer has {what}", permanent=True)
    return subscription, address
