"""Settings from GEO_PATROL_* environment variables (and an optional .env file)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from geo_patrol.core.vocabulary import Language

# node_modules of the checkout this package runs from (`npm ci` of package.json, as ./run does).
# An installed wheel has no checkout: there GEO_PATROL_VENDOR_DIR names the folder.
CHECKOUT_VENDOR_DIR = Path(__file__).resolve().parents[2] / "node_modules"


class Settings(BaseSettings):
    """Service settings; pass an instance to create_app() rather than reading globals."""

    # A refused value is not echoed in the error: several settings hold passwords.
    model_config = SettingsConfigDict(
        env_prefix="GEO_PATROL_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        hide_input_in_errors=True,
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
    pg_bindir: Path | None = Field(
        default=None,
        description="Folder of pg_dump/pg_restore for `geo-patrol db backup|restore` (unset: the "
        "embedded cluster's own, or those on PATH for an external database).",
    )
    host: str = Field(default="127.0.0.1", description="Address the HTTP service binds to.")
    port: int = Field(default=8000, description="Port the HTTP service listens on.")
    log_level: str = Field(default="info", description="Logging level.")
    log_format: Literal["text", "json"] = Field(
        default="text", description="Log lines as text, or as JSON objects (one a line)."
    )
    lookup_max_results: int = Field(default=500, description="Largest page of a list endpoint.")
    max_body_bytes: int = Field(
        default=1_000_000, description="Largest request body for ordinary API requests (bytes)."
    )
    max_upload_bytes: int = Field(
        default=50_000_000, description="Largest request body for file uploads (bytes)."
    )
    max_unpacked_bytes: int | None = Field(
        default=None,
        gt=0,
        description="Largest KML a KMZ upload may unpack to (bytes); unset: the upload limit.",
    )
    parse_slots: int = Field(
        default=0,
        ge=0,
        description="Uploads read at once per service process (0: one per CPU core); others wait.",
    )
    parse_wait_seconds: float = Field(
        default=30.0,
        ge=0,
        description="How long an upload waits for a free slot before 503 with Retry-After.",
    )
    parse_memory_mb: int = Field(
        default=1024,
        ge=64,
        description="Memory limit of the worker process reading one upload; past it: 413.",
    )
    parse_timeout_seconds: float = Field(
        default=300.0, gt=0, description="Time limit of reading one upload; past it: 413."
    )
    cookie_secure: bool | None = Field(
        default=None,
        description="Mark session cookies Secure; unset: when the request came over https.",
    )
    session_hours: float = Field(default=12.0, description="Lifetime of a web login session.")
    login_failures_per_account: int = Field(
        default=5,
        description="Failed sign-ins of an account (since its last success, in the window) "
        "before each further attempt waits: 1 s, doubling with every failure.",
    )
    login_failures_per_address: int = Field(
        default=20, description="The same for the failed sign-ins from one client address."
    )
    login_delay_max_seconds: float = Field(
        default=300.0, gt=0, description="Longest wait between sign-in attempts (never a lock)."
    )
    login_window_minutes: float = Field(
        default=60.0, gt=0, description="Failed sign-ins older than this are forgotten."
    )
    known_browser_days: int = Field(
        default=365,
        ge=1,
        description="A browser that signed in is known this long: its sign-in ignores the "
        "delays others' failures put on the account and the address.",
    )

    db_connect_timeout_s: float = Field(
        default=3.0,
        ge=2.0,
        description="Longest wait for a new database connection (PostgreSQL counts whole seconds, "
        "at least 2).",
    )
    db_statement_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="Longest database statement of the service (the server cancels it); a server "
        "that does not answer at all is given up this long plus the connect timeout.",
    )
    db_pool_timeout_s: float = Field(
        default=3.0, gt=0, description="Longest wait for a free connection of the pool."
    )
    db_pool_size: int = Field(default=10, ge=1, description="Connections each process keeps.")
    db_pool_overflow: int = Field(
        default=10, ge=0, description="Connections a process may open beyond the pool when busy."
    )

    http_header_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="A request's line and headers must arrive within this (both ports).",
    )
    http_body_timeout_s: float = Field(
        default=30.0, gt=0, description="Longest pause within a request body (both ports)."
    )
    http_keepalive_s: int = Field(
        default=5, gt=0, description="An idle connection between requests closes after this."
    )
    http_connections_per_client: int = Field(
        default=100,
        ge=0,
        description="Open connections one client address may hold in a process, both ports "
        "together (0: no cap; behind a reverse proxy every client has the proxy's address).",
    )
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Worker processes of `geo-patrol serve` (sharing the listening sockets).",
    )
    live_batch_positions: int = Field(
        default=5000,
        ge=1,
        description="Most OsmAnd/Traccar positions a process stores in one transaction.",
    )
    osmand_port: int | None = Field(
        default=5055, description="Port of the OsmAnd/Traccar listener (unset: only /osmand)."
    )
    live_silence_minutes: float = Field(
        default=30.0, description="A live patrol closes after this long without positions."
    )
    coverage_distance_m: float = Field(
        default=50.0,
        gt=0,
        le=500,  # coverage.MAX_DISTANCE_M: refused at start, not at the first patrol
        description="A river stretch counts as patrolled within this distance.",
    )
    crossing_min_run_m: float = Field(
        default=25.0,
        description="A border crossing counts once the track stayed this far on the new side.",
    )
    maintenance_seconds: float = Field(
        default=30.0,
        description="How often live patrols are closed and refreshed in the background (0: never).",
    )
    raw_fix_months: int = Field(
        default=0,
        ge=0,
        description="Raw GPS fixes are kept this many months before the current one, then "
        "their months are dropped by the maintenance (0: kept forever). Cleaned tracks, "
        "attribution, coverage and duty stay.",
    )
    partitions_ahead: int = Field(
        default=2,
        ge=1,
        le=24,
        description="Months of raw fixes the maintenance prepares ahead of the current one.",
    )
    crossing_margin_m: float = Field(
        default=15.0,
        description="...or reached this far from the other side (GPS noise is a few metres).",
    )
    incident_segment_distance_m: float = Field(
        default=100.0, description="A report is on a river segment within this distance."
    )
    duplicate_distance_m: float = Field(
        default=100.0,
        description="A report joins an open case of its category this close to the case's own "
        "report...",
    )
    duplicate_hours: float = Field(
        default=72.0, description="...within this many hours (before or after) of its report time."
    )
    verification_distance_m: float = Field(
        default=50.0, description="A patrol this close to a resolved incident verifies it."
    )
    water_upstream_m: float = Field(
        default=5000.0,
        gt=0,
        description="A worsening border section's case lists as leads what lies this far "
        "upstream of it on the same river (metres along the flow)...",
    )
    water_lead_hours: float = Field(
        default=48.0, gt=0, description="...in this many hours before the reading."
    )
    water_snap_max_m: float = Field(
        default=500.0,
        gt=0,
        description="A monitoring section is snapped to the nearest river this close; further "
        "from every river it is refused.",
    )
    max_photo_bytes: int = Field(default=15_000_000, description="Largest photo (bytes).")
    max_accuracy_m: float = Field(default=100.0, description="Fixes less accurate are dropped.")
    future_tolerance_s: float = Field(
        default=300.0, description="Fixes further in the future than this are dropped."
    )

    basemap: str = Field(
        default="none",
        description="Base map under the layers: none, osm, tianditu, or an XYZ URL template "
        "of an internal tile server (https://tiles.example/{z}/{x}/{y}.png).",
    )
    basemap_attribution: str = Field(
        default="", description="Attribution shown for an XYZ base map of your own."
    )
    tianditu_key: str | None = Field(
        default=None, description="Tianditu (天地图) key, needed when basemap=tianditu."
    )
    map_language: Language = Field(
        default=Language.ZH, description="Language of the map pages: zh or en (?lang= overrides)."
    )
    public_url: str | None = Field(
        default=None,
        description="The service's address as phones reach it (https://patrol.example.org); "
        "used in the set-up QR codes. Unset: the address of the request.",
    )
    mobile_language: Language = Field(
        default=Language.ZH, description="Default language of the phone web app: zh or en (?lang=)."
    )
    mobile_answer_seconds: float = Field(
        default=60,
        gt=0,
        description="How long the phone web app waits for the service to answer an upload or "
        "report before it gives up and tries again later (bigger items also get time for their "
        "bytes at 5 kB/s).",
    )
    maps_dir: Path = Field(
        default=Path("maps"), description="Where `geo-patrol meeting-pack` writes by default."
    )
    vendor_dir: Path = Field(
        default=CHECKOUT_VENDOR_DIR,
        description="Folder of the map pages' npm packages (Leaflet and its plugins, `npm ci` of "
        "package.json), served under /static/vendor and inlined in the meeting pack. Default: "
        "node_modules of the checkout geo_patrol runs from; set it for an installed wheel.",
    )
    # The daily digest of chiefs due soon (duty.digest). No channel set: nothing is sent.
    # The URLs hold credentials: SecretStr keeps them out of repr() and of the logs.
    digest_smtp_url: SecretStr | None = Field(
        default=None,
        description="Mail server of the daily duty digest: smtp://user:password@host:587 or "
        "smtps://... (TLS from the start). Unset: no e-mail.",
    )
    digest_smtp_starttls: bool = Field(
        default=True, description="Upgrade an smtp:// connection with STARTTLS before logging in."
    )
    digest_from: str = Field(
        default="geo-patrol@localhost", description="Sender address of the digest e-mails."
    )
    digest_webhook_url: SecretStr | None = Field(
        default=None,
        description="http(s) URL the digest is POSTed to as JSON, one request per recipient "
        "(redirects are not followed). Unset: no webhook.",
    )
    digest_hour: int = Field(
        default=8, ge=0, le=23, description="Local (CST) hour from which the day's digest is sent."
    )
    digest_within_days: int = Field(
        default=3, ge=1, description="The digest lists chiefs whose period ends within this."
    )
    digest_timeout_s: float = Field(
        default=10.0, gt=0, description="Longest wait for the mail server or the webhook."
    )
    digest_max_attempts: int = Field(
        default=5, ge=1, description="Tries of one day's digest per recipient and channel."
    )
    digest_retry_minutes: float = Field(
        default=10.0, ge=0, description="Wait before trying a failed digest again."
    )
    open311_public_read: bool = Field(
        default=False,
        description="Open311 GET requests without an api_key (GeoReport v2 public feeds): every "
        "request, with only its public fields (category, status, place rounded to 3 decimals, "
        "about 100 m; dates; responsible body), never its description. Off: a key is needed.",
    )

    @field_validator("digest_smtp_url")
    @classmethod
    def _smtp_scheme(cls, url: SecretStr | None) -> SecretStr | None:
        """smtp:// or smtps:// only (the message names no part of the URL: it may hold a
        password)."""
        if url is not None and not url.get_secret_value().startswith(("smtp://", "smtps://")):
            raise ValueError("must start with smtp:// or smtps://")
        return url

    @field_validator("digest_webhook_url")
    @classmethod
    def _webhook_scheme(cls, url: SecretStr | None) -> SecretStr | None:
        """http:// or https:// only."""
        if url is not None and not url.get_secret_value().startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return url

    @property
    def unpacked_limit(self) -> int:
        """What a KMZ may unpack to: GEO_PATROL_MAX_UNPACKED_BYTES, else the upload limit."""
        return self.max_unpacked_bytes or self.max_upload_bytes

    @property
    def uploads_dir(self) -> Path:
        """Folder of the original uploaded files, by checksum."""
        return self.data_dir / "uploads"

    @property
    def pg_dir(self) -> Path:
        """Folder of the embedded PostgreSQL cluster."""
        return self.data_dir / "pg"
