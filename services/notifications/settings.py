"""The notifications service's settings (environment prefix ``PARITY_``)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from shared.contract import INDICATORS_TOPIC, NOTIFICATIONS_TOPIC
from shared.internal import INSPECTION_STATUS_TOPIC, PEOPLE_CHANGES_TOPIC
from shared.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    mongodb_database: str = "parity_notifications"
    group_id: str = "parity-notifications"
    metrics_port: int = 9104
    batch_size: int = Field(default=500, ge=1, le=10_000)
    # Topics: the contract's by default (tests give each run its own).
    indicators_topic: str = INDICATORS_TOPIC
    inspection_status_topic: str = INSPECTION_STATUS_TOPIC
    people_changes_topic: str = PEOPLE_CHANGES_TOPIC
    notifications_topic: str = NOTIFICATIONS_TOPIC
    # E-mail (SMTP); a user needs a password, which has no default.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_tls: Literal["none", "starttls", "tls"] = "none"
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    sender_address: str = "parity-notifications@localhost"
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    # Rules
    lead_times_days: list[int] = Field(default_factory=lambda: [30, 7, 1])
    quiet_period: timedelta = timedelta(hours=24)
    language: Literal["vi", "en"] = "vi"
    plans_dir: Path = Path("deploy/plans")
    subscriptions_file: Path | None = None  # a YAML file seeded into the store at start-up
    check_interval_seconds: float = Field(default=60.0, gt=0)  # deadlines, summaries, held
    # Delivery: retries with exponential backoff, a lease per attempt, the outbox poll.
    retry_base_seconds: float = Field(default=5.0, gt=0)
    retry_cap_seconds: float = Field(default=3600.0, gt=0)
    retry_max_attempts: int = Field(default=10, ge=1)  # e-mail, webhooks; Kafka: no limit
    delivery_lease_seconds: float = Field(default=120.0, gt=0)
    outbox_poll_interval_seconds: float = Field(default=1.0, gt=0)
    outbox_batch_size: int = Field(default=100, ge=1, le=1000)
    shutdown_grace_seconds: float = Field(default=5.0, ge=0)  # for attempts under way

    @model_validator(mode="after")
    def _consistent(self) -> NotificationsSettings:
        if self.smtp_user and self.smtp_password is None:
            raise ValueError("PARITY_SMTP_USER needs PARITY_SMTP_PASSWORD")
        if any(lead <= 0 for lead in self.lead_times_days):
            raise ValueError("lead_times_days are positive numbers of days")
        longest = max(self.smtp_timeout_seconds, self.webhook_timeout_seconds)
        if self.delivery_lease_seconds <= longest:
            raise ValueError("delivery_lease_seconds must exceed the SMTP and webhook timeouts")
        return self
