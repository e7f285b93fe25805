"""Settings every service shares (pydantic-settings, environment prefix ``PARITY_``).

Each service subclasses :class:`ServiceSettings` once. Values that must be given have no
default, and secrets (passwords, and the store URL, which may carry credentials) never do.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
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


class ServiceSettings(BaseSettings):
    """The shared base. Nested ``kafka`` reads ``PARITY_KAFKA_*``."""

    model_config = SettingsConfigDict(env_prefix="PARITY_", extra="ignore")

    mongodb_url: SecretStr  # may carry credentials: required, no default
    mongodb_database: str = "parity"
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=9100, ge=0, le=65535)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
