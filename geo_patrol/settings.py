"""Settings from GEO_PATROL_* environment variables (and an optional .env file)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Service settings; pass an instance to create_app() rather than reading globals."""

    model_config = SettingsConfigDict(
        env_prefix="GEO_PATROL_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL+PostGIS URL. Unset: run the private embedded cluster.",
    )
    data_dir: Path = Field(
        default=Path("var"), description="Folder for the embedded cluster and stored files."
    )
    pg_port: int = Field(
        default=54329, description="Preferred TCP port of the embedded cluster (127.0.0.1)."
    )
    host: str = Field(default="127.0.0.1", description="Address the HTTP service binds to.")
    port: int = Field(default=8000, description="Port the HTTP service listens on.")
    log_level: str = Field(default="info", description="Logging level.")
    lookup_max_results: int = Field(default=500, description="Largest page of a list endpoint.")
    max_body_bytes: int = Field(
        default=1_000_000, description="Largest request body for ordinary API requests (bytes)."
    )
    max_upload_bytes: int = Field(
        default=50_000_000, description="Largest request body for file uploads (bytes)."
    )
    cookie_secure: bool | None = Field(
        default=None,
        description="Mark session cookies Secure; unset: when the request came over https.",
    )
    session_hours: float = Field(default=12.0, description="Lifetime of a web login session.")
    login_failures_per_account: int = Field(
        default=5, description="Failed logins per account in 15 minutes before it is locked out."
    )
    login_failures_per_address: int = Field(
        default=20, description="Failed logins per client address in 15 minutes before refusal."
    )

    @property
    def pg_dir(self) -> Path:
        """Folder of the embedded PostgreSQL cluster."""
        return self.data_dir / "pg"
