"""Photos of incidents: stored by checksum under the data folder, served without EXIF."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import NotFound
from geo_patrol.core.settings import Settings
from geo_patrol.db.tables import IncidentPhoto
from geo_patrol.incidents.photo_files import photo_path, public_copy, store_photo


def add_photo(
    session: Session, *, incident_id: int, data: bytes, settings: Settings
) -> dict[str, Any]:
    """Store a photo for an incident; return its id and any location found in its EXIF."""
    stored = store_photo(
        data, folder=settings.data_dir / "photos", max_bytes=settings.max_photo_bytes
    )
    added = insert(IncidentPhoto).values(
        incident_id=incident_id,
        sha256=stored.sha256,
        media_type=stored.media_type,
        size_bytes=stored.size_bytes,
        width=stored.width,
        height=stored.height,
        taken_at=stored.taken_at,
    )
    photo_id = session.execute(added.returning(IncidentPhoto.id)).scalar_one()
    exif = None
    if stored.exif_lon is not None and stored.exif_lat is not None:
        exif = {"lon": stored.exif_lon, "lat": stored.exif_lat}
    return {
        "id": photo_id,
        "sha256": stored.sha256,
        "exif_location": exif,
        "taken_at": stored.taken_at.isoformat() if stored.taken_at else None,
    }


def photo_for_download(
    session: Session, *, incident_id: int, photo_id: int, settings: Settings
) -> tuple[bytes, str]:
    """The stripped copy of one stored photo (call after the incident's scope was checked)."""
    row = session.execute(
        text("SELECT sha256, media_type FROM incident_photos WHERE id = :p AND incident_id = :i"),
        {"p": photo_id, "i": incident_id},
    ).first()
    if row is None:
        raise NotFound(
            msg("problem.photos.no_photo", incident_id=incident_id, photo_id=photo_id),
            field="photo_id",
        )
    return public_copy(photo_path(settings.data_dir / "photos", row.sha256), row.media_type)
