"""Unit tests for geo_patrol.incidents.photo_files on the fixtures of tests/fixtures/photos.

Expected values are spelled out from what make_fixtures.py wrote (or what a test writes with
Pillow itself), never read back through geo_patrol.incidents.photo_files.
"""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import ExifTags, Image, PngImagePlugin
from PIL.TiffImagePlugin import IFDRational

from geo_patrol.core.errors import InvalidInput
from geo_patrol.incidents.photo_files import (
    PHOTO_TYPES,
    StoredPhoto,
    photo_path,
    public_copy,
    sniff_media_type,
    store_photo,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "photos"
MAX_BYTES = 100_000
# make_fixtures.py: GPS 30°50'28.4424" N, 120°43'24.4416" E; 2024:05:01 08:30:15 at +08:00.
FIXTURE_LAT = 30.841234
FIXTURE_LON = 120.723456
FIXTURE_TAKEN = datetime(2024, 5, 1, 0, 30, 15, tzinfo=UTC)
# Personal data that make_fixtures.py wrote into EXIF, XMP, IPTC, the comment and PNG text.
PERSONAL = [b"Xiaomi", b"Redmi", b"Zhang Wei", b"SN-4F2A9C71", b"Jiaxing", b"2024:05:01"]
METADATA_MARKERS = [b"Exif", b"http://ns.adobe.com/xap", b"Photoshop 3.0", b"8BIM"]
PNG_METADATA_CHUNKS = [b"tEXt", b"iTXt", b"zTXt", b"eXIf"]


def _fixture(name: str) -> bytes:
    """Bytes of a fixture file."""
    return (FIXTURES / name).read_bytes()


def _refusal(data: bytes, tmp_path: Path, **limits: int) -> InvalidInput:
    """The InvalidInput that store_photo raises for `data` (nothing stored)."""
    with pytest.raises(InvalidInput) as caught:
        store_photo(data, folder=tmp_path, max_bytes=limits.pop("max_bytes", MAX_BYTES), **limits)
    assert caught.value.extra == {"field": "photo"}
    assert not any(tmp_path.rglob("*"))
    return caught.value


def _jpeg_with_gps(gps: dict[int, object], taken: str | None = None) -> bytes:
    """A small JPEG (Pillow-written) with the given GPS IFD and DateTimeOriginal, no offset."""
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(gps)
    if taken is not None:
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = taken
    out = io.BytesIO()
    Image.new("RGB", (8, 6), (90, 120, 60)).save(out, format="JPEG", exif=exif)
    return out.getvalue()


def _dms(degrees: int, minutes: int, seconds_e4: int) -> tuple[IFDRational, ...]:
    """EXIF degrees/minutes/seconds rationals, seconds given in units of 1/10000."""
    return (IFDRational(degrees, 1), IFDRational(minutes, 1), IFDRational(seconds_e4, 10000))


def _other_image(pil_format: str) -> bytes:
    """A small image in a format that is not accepted."""
    out = io.BytesIO()
    Image.new("RGB", (8, 6), (10, 200, 30)).save(out, format=pil_format)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("exif_full.jpg", "image/jpeg"),
        ("no_exif.jpg", "image/jpeg"),
        ("with_text.png", "image/png"),
        ("exif_full.heic", "image/heic"),
        ("text_renamed.jpg", None),
    ],
)
def test_type_is_sniffed_from_bytes(name: str, media_type: str | None) -> None:
    """The magic numbers decide, not the file name."""
    assert sniff_media_type(_fixture(name)) == media_type
    assert set(PHOTO_TYPES) == {"image/jpeg", "image/png", "image/heic", "image/heif"}


def test_renamed_text_file_is_refused_naming_the_field(tmp_path: Path) -> None:
    """A text file called .jpg is refused on field "photo", saying what is accepted."""
    error = _refusal(_fixture("text_renamed.jpg"), tmp_path)
    assert "JPEG, PNG or HEIC/HEIF" in error.detail
    assert error.problem()["field"] == "photo"


@pytest.mark.parametrize("pil_format", ["GIF", "WEBP", "BMP", "TIFF"])
def test_other_image_formats_are_refused(tmp_path: Path, pil_format: str) -> None:
    """Real images of other formats are refused too."""
    assert sniff_media_type(_other_image(pil_format)) is None
    _refusal(_other_image(pil_format), tmp_path)


def test_heif_lookalike_brands_are_refused() -> None:
    """An ftyp box of AVIF or MP4 is not HEIF; a bad box size is nothing."""
    assert sniff_media_type(b"\x00\x00\x00\x18ftypavif\x00\x00\x00\x00mif1avif") is None
    assert sniff_media_type(b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00isomiso2") is None
    assert sniff_media_type(b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1miaf") == "image/heif"
    assert sniff_media_type(b"\x00\x00\x10\x00ftypheic\x00\x00\x00\x00mif1heic") is None


def test_empty_and_truncated_files_are_refused(tmp_path: Path) -> None:
    """No bytes, or a JPEG cut in its scan data, is refused."""
    assert "empty" in _refusal(b"", tmp_path).detail
    assert "truncated" in _refusal(_fixture("truncated.jpg"), tmp_path).detail


def test_size_limit(tmp_path: Path) -> None:
    """One byte over max_bytes is refused; exactly max_bytes is accepted."""
    data = _fixture("no_exif.jpg")
    error = _refusal(data, tmp_path, max_bytes=len(data) - 1)
    assert f"at most {len(data) - 1}" in error.detail
    assert store_photo(data, folder=tmp_path, max_bytes=len(data)).size_bytes == len(data)


def test_pixel_cap(tmp_path: Path) -> None:
    """The pixel count (64×48 = 3072) is checked against the cap before decoding."""
    data = _fixture("no_exif.jpg")
    assert "3072" in _refusal(data, tmp_path, max_pixels=3071).detail
    assert store_photo(data, folder=tmp_path, max_bytes=MAX_BYTES, max_pixels=3072).width == 64


def test_decompression_bomb_is_refused(tmp_path: Path) -> None:
    """A 1 KB JPEG claiming 60000×60000 pixels is refused without decoding it."""
    assert "too many pixels" in _refusal(_fixture("bomb.jpg"), tmp_path).detail


@pytest.mark.parametrize("name", ["exif_full.jpg", "with_text.png", "exif_full.heic"])
def test_gps_time_and_displayed_size_from_exif(tmp_path: Path, name: str) -> None:
    """GPS to 1e-6 degrees, the offset-aware time in UTC, width/height after orientation 6."""
    photo = store_photo(_fixture(name), folder=tmp_path, max_bytes=MAX_BYTES)
    assert photo.exif_lat == pytest.approx(FIXTURE_LAT, abs=1e-6)
    assert photo.exif_lon == pytest.approx(FIXTURE_LON, abs=1e-6)
    assert photo.taken_at == FIXTURE_TAKEN
    assert (photo.width, photo.height) == (48, 64)


def test_no_exif(tmp_path: Path) -> None:
    """A JPEG without EXIF has no time nor position, and its stored size."""
    photo = store_photo(_fixture("no_exif.jpg"), folder=tmp_path, max_bytes=MAX_BYTES)
    assert (photo.media_type, photo.width, photo.height) == ("image/jpeg", 64, 48)
    assert (photo.taken_at, photo.exif_lon, photo.exif_lat) == (None, None, None)


def test_southern_western_refs_give_negative_degrees(tmp_path: Path) -> None:
    """S and W refs flip the sign; a time without offset is taken as UTC."""
    gps: dict[int, object] = {
        ExifTags.GPS.GPSLatitudeRef: "S",
        ExifTags.GPS.GPSLatitude: _dms(33, 52, 4_0812),  # 33.867778 S (Sydney)
        ExifTags.GPS.GPSLongitudeRef: "W",
        ExifTags.GPS.GPSLongitude: _dms(70, 40, 1_8000),  # 70.671667 W
    }
    photo = store_photo(
        _jpeg_with_gps(gps, "2023:12:31 23:59:59"), folder=tmp_path, max_bytes=MAX_BYTES
    )
    assert photo.exif_lat == pytest.approx(-(33 + 52 / 60 + 4.0812 / 3600), abs=1e-9)
    assert photo.exif_lon == pytest.approx(-(70 + 40 / 60 + 1.8 / 3600), abs=1e-9)
    assert photo.taken_at == datetime(2023, 12, 31, 23, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    "gps",
    [
        {1: "N", 2: _dms(0, 0, 0), 3: "E", 4: _dms(0, 0, 0)},  # 0/0: no fix
        {1: "N", 2: _dms(95, 0, 0), 3: "E", 4: _dms(120, 0, 0)},  # latitude > 90
        {1: "N", 2: _dms(30, 61, 0), 3: "E", 4: _dms(120, 0, 0)},  # 61 minutes
        {2: _dms(30, 50, 0), 3: "E", 4: _dms(120, 0, 0)},  # no latitude ref
        {1: "X", 2: _dms(30, 50, 0), 3: "E", 4: _dms(120, 0, 0)},  # bad ref
        {1: "N", 2: _dms(30, 50, 0), 3: "E"},  # no longitude
        {1: "N", 2: _dms(30, 50, 0), 3: "E", 4: _dms(120, 0, 0), 9: "V"},  # status void
        {1: "N", 2: (IFDRational(30, 0), 0, 0), 3: "E", 4: _dms(120, 0, 0)},  # x/0
    ],
)
def test_invalid_or_zero_gps_is_ignored(tmp_path: Path, gps: dict[int, object]) -> None:
    """Positions that cannot be true are dropped; the photo is still accepted."""
    photo = store_photo(
        _jpeg_with_gps(gps, "0000:00:00 00:00:00"), folder=tmp_path, max_bytes=MAX_BYTES
    )
    assert (photo.exif_lon, photo.exif_lat, photo.taken_at) == (None, None, None)


def test_unparsable_exif_counts_as_none(tmp_path: Path) -> None:
    """An APP1 "Exif" segment that is not TIFF data is ignored, the photo accepted and served."""
    out = io.BytesIO()
    Image.new("RGB", (8, 6)).save(out, format="JPEG", exif=b"Exif\x00\x00not TIFF data")
    photo = store_photo(out.getvalue(), folder=tmp_path, max_bytes=MAX_BYTES)
    assert (photo.width, photo.height, photo.taken_at, photo.exif_lat) == (8, 6, None, None)
    data, _ = public_copy(photo_path(tmp_path, photo.sha256), photo.media_type)
    assert _assert_no_metadata(data).size == (8, 6)


def test_original_bytes_are_stored_once(tmp_path: Path) -> None:
    """folder/<sha[:2]>/<sha> holds the exact upload; a second upload writes nothing."""
    data = _fixture("exif_full.jpg")
    first = store_photo(data, folder=tmp_path, max_bytes=MAX_BYTES)
    sha = hashlib.sha256(data).hexdigest()
    target = tmp_path / sha[:2] / sha
    assert first.sha256 == sha
    assert photo_path(tmp_path, sha) == target
    assert hashlib.sha256(target.read_bytes()).hexdigest() == sha
    before = target.stat().st_mtime_ns
    second = store_photo(data, folder=tmp_path, max_bytes=MAX_BYTES)
    assert second == first
    assert target.stat().st_mtime_ns == before
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()) == [
        Path(sha[:2]) / sha
    ]
    assert isinstance(first, StoredPhoto)


def test_photo_path_refuses_other_names(tmp_path: Path) -> None:
    """Only a lowercase hex SHA-256 names a stored photo (no path tricks)."""
    with pytest.raises(InvalidInput):
        photo_path(tmp_path, "../" + "a" * 61)


def _assert_no_metadata(data: bytes) -> Image.Image:
    """Open a public copy and check that it carries no metadata at all."""
    image = Image.open(io.BytesIO(data))
    image.load()
    assert len(image.getexif()) == 0
    assert not {"exif", "xmp", "comment", "photoshop"} & set(image.info)
    for needle in [*PERSONAL, *METADATA_MARKERS]:
        assert needle not in data, needle
    return image


def _rgb(image: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    """The (red, green, blue) of one pixel."""
    pixel = image.convert("RGB").getpixel(xy)
    assert isinstance(pixel, tuple)
    return tuple(int(channel) for channel in pixel)


def test_public_jpeg_copy_is_upright_and_has_no_metadata(tmp_path: Path) -> None:
    """EXIF, XMP, IPTC and comment go; orientation 6 is applied; the ICC profile stays."""
    original = Image.open(FIXTURES / "exif_full.jpg")
    assert original.size == (64, 48)
    data, media_type = public_copy(FIXTURES / "exif_full.jpg", "image/jpeg")
    image = _assert_no_metadata(data)
    assert (media_type, image.format, image.size) == ("image/jpeg", "JPEG", (48, 64))
    assert image.info["icc_profile"] == original.info["icc_profile"]
    # Stored left red / right blue; turned 90° clockwise: red on top, blue at the bottom.
    top, bottom = _rgb(image, (24, 4)), _rgb(image, (24, 60))
    assert top[0] > 150 > top[2]
    assert bottom[2] > 150 > bottom[0]


def test_public_png_copy_drops_text_and_exif_chunks() -> None:
    """PNG text and eXIf chunks go; the pixels are kept exactly, turned upright."""
    original = Image.open(FIXTURES / "with_text.png")
    assert isinstance(original, PngImagePlugin.PngImageFile)
    assert {"Author", "Location"} <= set(original.text)
    data, media_type = public_copy(FIXTURES / "with_text.png", "image/png")
    image = _assert_no_metadata(data)
    assert (media_type, image.format, image.size) == ("image/png", "PNG", (48, 64))
    for chunk in PNG_METADATA_CHUNKS:
        assert chunk not in data
    assert image.tobytes() == original.transpose(Image.Transpose.ROTATE_270).tobytes()


def test_public_heic_copy_is_jpeg() -> None:
    """A HEIC is served as an upright JPEG without its EXIF."""
    data, media_type = public_copy(FIXTURES / "exif_full.heic", "image/heic")
    assert media_type == "image/jpeg"
    assert data.startswith(b"\xff\xd8\xff")
    image = _assert_no_metadata(data)
    assert (image.format, image.size) == ("JPEG", (48, 64))


def test_public_copy_of_plain_jpeg_keeps_size() -> None:
    """A JPEG without orientation keeps its size."""
    data, media_type = public_copy(FIXTURES / "no_exif.jpg", "image/jpeg")
    assert (media_type, _assert_no_metadata(data).size) == ("image/jpeg", (64, 48))
