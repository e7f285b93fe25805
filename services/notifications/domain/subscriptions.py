"""Subscriptions: who receives which notifications, and through which channels.

A subscriber (name, e-mail and/or webhook URL, optional webhook secret) follows a unit
subtree (``unit_id``; none: the whole organisation), some rules (none: all of them), from a
minimum severity on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints, model_validator

from services.notifications.domain.rules import RULES, SEVERITY_ORDER, Severity
from shared.contract import Identifier

SubscriptionId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+$", max_length=254)]
WebhookUrl = Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=2000)]
Channel = Literal["email", "webhook"]


class Subscription(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: SubscriptionId
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    email: Email | None = None
    webhook_url: WebhookUrl | None = None
    secret: SecretStr | None = None  # signs webhook deliveries (HMAC-SHA256)
    unit_id: Identifier | None = None  # the subtree followed; None: the whole organisation
    rules: list[str] = Field(default_factory=list)  # empty: every rule
    min_severity: Severity = "info"
    language: Literal["vi", "en"] | None = None  # e-mail language; None: the service's

    @model_validator(mode="after")
    def _reachable_and_known(self) -> Subscription:
        if self.email is None and self.webhook_url is None:
            raise ValueError("a subscription needs an e-mail address, a webhook URL or both")
        unknown = sorted(set(self.rules) - set(RULES))
        if unknown:
            raise ValueError(f"unknown rule(s): {', '.join(unknown)}")
        return self

    def channels(self) -> list[tuple[Channel, str]]:
        """(channel, address) pairs this subscriber is reached through."""
        found: list[tuple[Channel, str]] = []
        if self.email:
            found.append(("email", self.email))
        if self.webhook_url:
            found.append(("webhook", self.webhook_url))
        return found

    def wants(self, *, rule: str, severity: str, chain: Sequence[str]) -> bool:
        """``chain`` is the notification's unit and its ancestors (nearest first)."""
        return (
            (self.unit_id is None or self.unit_id in chain)
            and (not self.rules or rule in self.rules)
            and SEVERITY_ORDER[severity] >= SEVERITY_ORDER[self.min_severity]
        )
