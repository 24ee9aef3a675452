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

    @property
    def pg_dir(self) -> Path:
        """Folder of the embedded PostgreSQL cluster."""
        return self.data_dir / "pg"
