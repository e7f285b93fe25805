"""Where reports read from: one pydantic-settings class (environment prefix ``PARITY_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ReportingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PARITY_", extra="ignore")

    mongodb_url: SecretStr  # may carry credentials: required, no default
    indicators_database: str = "parity_indicators"  # the indicator service's database
    inspections_database: str = "parity_inspections"  # the inspection service's database
    plans_dir: Path = Path("deploy/plans")
