"""Settings every service shares (pydantic-settings, environment prefix ``PARITY_``).

Each service subclasses :class:`ServiceSettings` once. Values that must be given have no
default, and secrets (passwords, and the store URL, which may carry credentials) never do.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PARITY_KAFKA_", extra="ignore")

    bootstrap_servers: str = "127.0.0.1:9092"
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    partitions: int = Field(default=6, ge=1, description="partitions of topics Parity creates")
    replication_factor: int = Field(default=1, ge=1)
    # A batch consumer waits this long for records, and FastStream sleeps as long again when
    # none came: on an idle system a record waits up to twice this before it is seen.
    poll_timeout_ms: int = Field(default=20, ge=1, le=1000)
    # A batch whose records were fetched over this long ago waits this long at most for the
    # records that arrived meanwhile (shared/consuming.py); 0: never.
    batch_top_up_ms: int = Field(default=5, ge=0, le=1000)

    @model_validator(mode="after")
    def _security_is_complete(self) -> KafkaSettings:
        """A half-given security setting is refused at start-up, never silently ignored."""
        sasl = self.security_protocol.startswith("SASL")
        tls = self.security_protocol in ("SSL", "SASL_SSL")
        credentials = (self.sasl_mechanism, self.sasl_username, self.sasl_password)
        if sasl and not all(credentials):
            raise ValueError(
                f"security_protocol {self.security_protocol} needs PARITY_KAFKA_SASL_MECHANISM,"
                " PARITY_KAFKA_SASL_USERNAME and PARITY_KAFKA_SASL_PASSWORD"
            )
        if not sasl and any(credentials):
            raise ValueError(
                f"SASL settings are given but security_protocol is {self.security_protocol}"
            )
        files = (self.ssl_cafile, self.ssl_certfile, self.ssl_keyfile)
        if not tls and any(files):
            raise ValueError(
                f"TLS files are given but security_protocol is {self.security_protocol}"
            )
        if self.ssl_keyfile and not self.ssl_certfile:
            raise ValueError("PARITY_KAFKA_SSL_KEYFILE needs PARITY_KAFKA_SSL_CERTFILE")
        return self


class ServiceSettings(BaseSettings):
    """The shared base. Nested ``kafka`` reads ``PARITY_KAFKA_*``."""

    model_config = SettingsConfigDict(env_prefix="PARITY_", extra="ignore")

    mongodb_url: SecretStr  # may carry credentials: required, no default
    # Each service owns its database (set per service below): no collection is shared.
    mongodb_database: str
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=9100, ge=0, le=65535)
    consumer_lag_interval_seconds: float = Field(
        default=15.0, gt=0, description="how often shared.lag reads the consumer groups' lag"
    )
    unhealthy_after_failing_seconds: float = Field(
        default=60.0,
        gt=0,
        description="/health turns false when a subscriber has failed every batch this long",
    )
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
