"""The channels' decisions that need no server: SMTP refusals, and whom a queued delivery
goes to now."""

from __future__ import annotations

import aiosmtplib
import pytest

from services.notifications.delivery.email import recipients_refused
from services.notifications.delivery.outbox import DeliveryFailed
from services.notifications.delivery.recipients import current_recipient
from services.notifications.domain.subscriptions import Subscription


def refused(*codes: int) -> aiosmtplib.SMTPRecipientsRefused:
    return aiosmtplib.SMTPRecipientsRefused(
        [aiosmtplib.SMTPRecipientRefused(code, f"{code} text", f"r{code}@x.vn") for code in codes]
    )


@pytest.mark.parametrize(
    ("codes", "permanent"),
    [((550,), True), ((451,), False), ((550, 553), True), ((550, 451), False), ((), False)],
)
def test_a_refusal_is_permanent_only_when_every_recipient_got_a_5xx(
    codes: tuple[int, ...], permanent: bool
) -> None:
    failure = recipients_refused(refused(*codes))
    assert failure.permanent is permanent
    assert all(str(code) in str(failure) for code in codes)


SUBSCRIPTION = Subscription(
    id="s", name="S", email="new@x.vn", webhook_url="https://new.example/hook", secret="k2"
)


async def test_a_queued_delivery_goes_to_the_subscription_as_it_is_now() -> None:
    async def now(subscription_id: str) -> Subscription | None:
        return SUBSCRIPTION if subscription_id == "s" else None

    email = {"subscription_id": "s", "channel": "email", "address": "old@x.vn"}
    assert await current_recipient(email, subscription_of=now) == (SUBSCRIPTION, "new@x.vn")
    hook = {"subscription_id": "s", "channel": "webhook", "address": "https://old.example/h"}
    assert (await current_recipient(hook, subscription_of=now))[1] == "https://new.example/hook"
    with pytest.raises(DeliveryFailed, match="removed") as removed:
        await current_recipient({**email, "subscription_id": "gone"}, subscription_of=now)
    assert removed.value.permanent


async def test_a_subscription_without_the_channel_any_more_fails_at_once() -> None:
    async def webhook_only(subscription_id: str) -> Subscription | None:
        return SUBSCRIPTION.model_copy(update={"email": None})

    email = {"subscription_id": "s", "channel": "email", "address": "old@x.vn"}
    with pytest.raises(DeliveryFailed, match="no longer has an e-mail address") as dropped:
        await current_recipient(email, subscription_of=webhook_only)
    assert dropped.value.permanent
