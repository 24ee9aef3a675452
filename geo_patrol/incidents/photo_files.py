"""Photos attached to pollution reports: checks, EXIF time and position, storage, public copies.

Pure file handling, no database. An upload is accepted only if its bytes (never its name or
declared content type) show a JPEG, PNG or HEIC/HEIF image that decodes completely, within the
byte limit and the pixel cap. The ORIGINAL bytes are stored once under their SHA-256
(``folder/<sha[:2]>/<sha>``); what is served on download is a copy made by `public_copy`:
turned upright by its EXIF orientation, with all EXIF/XMP/IPTC/comments/text chunks dropped
(GPS, device make/model/serial, owner name, timestamps) and only the ICC colour profile kept.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import re
import struct
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Final

import pillow_heif
from PIL import ExifTags, Image, ImageFile, ImageOps

from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import InvalidInput

__all__ = [
    "MAX_PIXELS",
    "PHOTO_TYPES",
    "StoredPhoto",
    "photo_path",
    "public_copy",
    "sniff_media_type",
    "store_photo",
]

# HEIC/HEIF decoding (libheif with libde265, and the x265 encoder) comes in pillow-heif's wheels.
pillow_heif.register_heif_opener()

# Accepted media types and how they are named to people.
PHOTO_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {"image/jpeg": "JPEG", "image/png": "PNG", "image/heic": "HEIC", "image/heif": "HEIF"}
)
ACCEPTED_NAMES: Final = "JPEG, PNG or HEIC/HEIF"
# Pillow's format name for each media type: the only decoder tried on the bytes.
_PIL_FORMAT: Final[Mapping[str, str]] = MappingProxyType(
    {"image/jpeg": "JPEG", "image/png": "PNG", "image/heic": "HEIF", "image/heif": "HEIF"}
)
# Pillow's default Image.MAX_IMAGE_PIXELS (~89.5 MP, 0.25 GiB at 24 bits a pixel): room for
# 48/50/64 MP phone photos; the 108/200 MP full-sensor modes are refused.
MAX_PIXELS: Final = 89_478_485

_JPEG_MAGIC: Final = b"\xff\xd8\xff"
_PNG_MAGIC: Final = b"\x89PNG\r\n\x1a\n"
# ISO-BMFF `ftyp` brands: HEVC-coded HEIF (image/heic) and generic HEIF structure (image/heif).
_HEIC_BRANDS: Final = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})
_HEIF_BRANDS: Final = frozenset({b"mif1", b"msf1", b"mif2"})
_AVIF_BRANDS: Final = frozenset({b"avif", b"avis"})
_MAX_FTYP_BYTES: Final = 4096

# Errors that Pillow and pillow-heif raise on bytes that are not a readable image.
_DECODE_ERRORS: Final = (OSError, ValueError, SyntaxError, struct.error, EOFError, IndexError)
# EXIF orientations that turn the picture by 90 degrees (width and height swap on display).
_QUARTER_TURNS: Final = frozenset({5, 6, 7, 8})
_EXIF_TIME: Final = "%Y:%m:%d %H:%M:%S"
_EXIF_OFFSET: Final = re.compile(r"([+-])(\d{2}):(\d{2})")
_SHA256_HEX: Final = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class StoredPhoto:
    """A stored upload; width and height as displayed (after the EXIF orientation)."""

    sha256: str
    media_type: str
    size_bytes: int
    width: int
    height: int
    taken_at: datetime | None
    exif_lon: float | None
    exif_lat: float | None


def sniff_media_type(data: bytes) -> str | None:
    """Return the accepted media type that the leading bytes (magic numbers) show, else None."""
    if data.startswith(_JPEG_MAGIC):
        return "image/jpeg"
    if data.startswith(_PNG_MAGIC):
        return "image/png"
    return _sniff_heif(data)


def _sniff_heif(data: bytes) -> str | None:
    """Media type of an ISO-BMFF file whose leading `ftyp` box names HEIF brands, else None."""
    if len(data) < 16 or data[4:8] != b"ftyp":
        return None
    box_size = int.from_bytes(data[:4], "big")
    if not 16 <= box_size <= min(len(data), _MAX_FTYP_BYTES) or box_size % 4:
        return None
    major = data[8:12]
    brands = {major} | {data[i : i + 4] for i in range(16, box_size, 4)}
    if brands & _HEIC_BRANDS:
        return "image/heic"
    if major in _HEIF_BRANDS and not brands & _AVIF_BRANDS:
        return "image/heif"
    return None


def store_photo(
    data: bytes, *, folder: Path, max_bytes: int, max_pixels: int = MAX_PIXELS
) -> StoredPhoto:
    """Check an upload, read its EXIF time and position, store the original bytes once."""
    if not data:
        raise InvalidInput(msg("problem.photos.empty"), field="photo")
    if len(data) > max_bytes:
        raise InvalidInput(
            msg("problem.photos.too_many_bytes", count=len(data), max_bytes=max_bytes),
            field="photo",
        )
    media_type = sniff_media_type(data)
    if media_type is None:
        raise InvalidInput(
            msg("problem.photos.wrong_type", accepted=ACCEPTED_NAMES),
            field="photo",
        )
    with _open_image(io.BytesIO(data), media_type) as image:
        width, height = _check_pixels(image, max_pixels)
        _decode(image, media_type)
        exif = _read_exif(image)
    if exif.get(ExifTags.Base.Orientation) in _QUARTER_TURNS:
        width, height = height, width
    sha256 = hashlib.sha256(data).hexdigest()
    _write_once(data, photo_path(folder, sha256))
    position = _exif_position(exif)
    return StoredPhoto(
        sha256=sha256,
        media_type=media_type,
        size_bytes=len(data),
        width=width,
        height=height,
        taken_at=_exif_taken_at(exif),
        exif_lon=position[0] if position else None,
        exif_lat=position[1] if position else None,
    )


def photo_path(folder: Path, sha256: str) -> Path:
    """Where the original bytes with this SHA-256 (64 lowercase hex digits) are stored."""
    if not _SHA256_HEX.fullmatch(sha256):
        raise InvalidInput(msg("problem.photos.bad_name"), field="photo")
    return folder / sha256[:2] / sha256


def _open_image(source: io.BytesIO | Path, media_type: str) -> ImageFile.ImageFile:
    """Open lazily (headers only) with the one decoder for `media_type`."""
    try:
        return Image.open(source, formats=[_PIL_FORMAT[media_type]])
    except Image.DecompressionBombError as exc:
        raise InvalidInput(msg("problem.photos.too_many_pixels"), field="photo") from exc
    except _DECODE_ERRORS as exc:
        name = PHOTO_TYPES[media_type]
        raise InvalidInput(msg("problem.photos.unreadable", name=name), field="photo") from exc


def _check_pixels(image: Image.Image, max_pixels: int) -> tuple[int, int]:
    """Refuse a picture larger than `max_pixels` from its header size, before decoding it."""
    width, height = image.size
    pixels = width * height
    if width < 1 or height < 1 or pixels > max_pixels:
        raise InvalidInput(
            msg(
                "problem.photos.too_many_pixels_of",
                width=width,
                height=height,
                pixels=pixels,
                max_pixels=max_pixels,
            ),
            field="photo",
        )
    return width, height


def _decode(image: Image.Image, media_type: str) -> None:
    """Decode all image data (a truncated or corrupt file fails here)."""
    if media_type == "image/jpeg":
        # libjpeg's 1/8 DCT scaling still reads the whole entropy-coded data, but ~10x faster.
        image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
    try:
        image.load()
    except _DECODE_ERRORS as exc:
        name = PHOTO_TYPES[media_type]
        raise InvalidInput(msg("problem.photos.damaged", name=name), field="photo") from exc


def _read_exif(image: Image.Image) -> Image.Exif:
    """The image's EXIF; empty when it has none or it cannot be parsed."""
    try:
        exif = image.getexif()
        # Parse the sub-IFDs now so that a broken one counts as no EXIF at all.
        exif.get_ifd(ExifTags.IFD.Exif)
        exif.get_ifd(ExifTags.IFD.GPSInfo)
    except (*_DECODE_ERRORS, KeyError, TypeError):
        return Image.Exif()
    return exif


def _exif_taken_at(exif: Image.Exif) -> datetime | None:
    """DateTimeOriginal (+ OffsetTimeOriginal) in UTC; None if absent or invalid."""
    ifd = exif.get_ifd(ExifTags.IFD.Exif)
    raw = ifd.get(ExifTags.Base.DateTimeOriginal)
    if not isinstance(raw, str):
        return None
    try:
        naive = datetime.strptime(raw.strip("\x00 "), _EXIF_TIME)
    except ValueError:  # "0000:00:00 00:00:00", blanks, other formats
        return None
    # EXIF times are naive wall-clock times. OffsetTimeOriginal (EXIF 2.31, most phones since
    # ~2017) gives their UTC offset; without it the zone is unknown and the time is taken as
    # UTC, which is wrong by the camera's offset (8 h for a phone set to China time).
    offset = _exif_offset(ifd.get(ExifTags.Base.OffsetTimeOriginal)) or UTC
    return naive.replace(tzinfo=offset).astimezone(UTC)


def _exif_offset(raw: object) -> timezone | None:
    """An EXIF offset such as "+08:00" as a timezone; None if absent or malformed."""
    if not isinstance(raw, str):
        return None
    match = _EXIF_OFFSET.fullmatch(raw.strip("\x00 "))
    if match is None:
        return None
    sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3))
    if hours > 14 or minutes > 59:
        return None
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if sign == "-" else delta)


def _exif_position(exif: Image.Exif) -> tuple[float, float] | None:
    """GPS (lon, lat) in decimal degrees; None if absent, void, out of range or 0/0."""
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    if gps.get(ExifTags.GPS.GPSStatus) == "V":  # "measurement void"
        return None
    lat = _dms_degrees(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef))
    lon = _dms_degrees(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef))
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
        return None
    if lat == 0 and lon == 0:  # what phones write without a fix
        return None
    return lon, lat


def _dms_degrees(value: object, ref: object) -> float | None:
    """EXIF (degrees, minutes, seconds) rationals and N/S/E/W ref as signed decimal degrees."""
    if not isinstance(ref, str) or ref.strip("\x00 ").upper() not in ("N", "S", "E", "W"):
        return None
    if not isinstance(value, tuple) or len(value) != 3:
        return None
    try:
        degrees, minutes, seconds = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    parts = (degrees, minutes, seconds)
    if not all(math.isfinite(part) and part >= 0 for part in parts) or max(minutes, seconds) >= 60:
        return None
    total = degrees + minutes / 60 + seconds / 3600
    return -total if ref.strip("\x00 ").upper() in ("S", "W") else total


def _write_once(data: bytes, target: Path) -> None:
    """Write `data` to `target` atomically (temp file + rename) unless it is already there."""
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        # Content-addressed: if another upload of the same bytes won the race, replacing its
        # file with identical bytes is harmless.
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def public_copy(path: Path, media_type: str) -> tuple[bytes, str]:
    """The stored photo as served (bytes, media type): upright, no metadata but the ICC profile."""
    if media_type not in PHOTO_TYPES:
        raise ValueError(f"not a photo media type: {media_type!r}")
    with _open_image(path, media_type) as image:
        upright = _upright(image)
    # Pillow carries some of `info` into what it saves (a JPEG comment, PNG transparency and
    # ICC profile): keep only what is not personal data, so nothing else can slip through.
    upright.info = {
        key: upright.info[key] for key in ("icc_profile", "transparency") if key in upright.info
    }
    if media_type == "image/png":
        return _encode(upright, "PNG"), "image/png"
    return _encode(_jpeg_ready(upright), "JPEG", quality=90, optimize=True), "image/jpeg"


def _upright(image: Image.Image) -> Image.Image:
    """A decoded copy turned as its EXIF orientation says (unchanged if the EXIF is broken)."""
    # pillow-heif has already applied HEIF's own rotation and reset the EXIF orientation to 1.
    try:
        return ImageOps.exif_transpose(image)
    except (*_DECODE_ERRORS, KeyError, TypeError):
        image.load()
        return image.copy()


def _jpeg_ready(image: Image.Image) -> Image.Image:
    """`image` in a mode JPEG can hold; transparency is flattened onto white."""
    if image.mode in ("RGB", "L", "CMYK"):
        return image
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        flat.info = {key: value for key, value in image.info.items() if key == "icc_profile"}
        return flat
    return image.convert("RGB")


def _encode(image: Image.Image, pil_format: str, **options: int | bool) -> bytes:
    """Save `image` with no metadata except its ICC profile."""
    out = io.BytesIO()
    icc = image.info.get("icc_profile")
    extra = {"icc_profile": icc} if icc else {}
    image.save(out, format=pil_format, **options, **extra)
    return out.getvalue()
