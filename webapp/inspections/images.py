"""The server-side photo pipeline: check, read, orient, strip, re-encode and thumbnail one uploaded photo.

No Flask app, no database: ``process(data)`` takes the uploaded bytes and returns a ``ProcessedPhoto``
(or raises ``PhotoError`` with a Chinese message for the inspector). The caller stores the bytes with
``webapp.storage`` and records the fingerprints and metadata.

What happens, in order:

1. Size: more than ``max_bytes`` is refused before anything is parsed.
2. Pillow reads the header only (no pixels yet). Non-images, unsupported formats and images with more
   than ``max_pixels`` (or over Pillow's own ``Image.MAX_IMAGE_PIXELS`` bomb limit) are refused here,
   so a decompression bomb is never decoded. The file name and the browser's content type are ignored:
   only the bytes decide.
3. ``Image.verify()`` checks the file's structure, then the file is reopened. Before any pixel is decoded, the
   memory the decoded image and its RGB working copy would take is computed from the header — width × height ×
   bands × bit depth, after a JPEG's reduced-scale decoding (see 5.) — and the photo is refused above
   ``max_decode_bytes`` (64 MiB): a single-colour 7070 × 7070 RGBA PNG of 204 KB is under the pixel limit but
   would take ~400 MB (issue 12, finding 2). Then it is fully decoded; a truncated or corrupt file fails here.
4. Capture time (EXIF DateTimeOriginal, else DateTimeDigitized, with OffsetTimeOriginal if the phone
   wrote it, otherwise read as Asia/Shanghai time) and GPS position (decimal degrees) are read as data.
5. The image is converted to sRGB, downsized to ``long_side`` (JPEGs are decoded at a reduced DCT
   scale first, which makes a 12 MP photo cheap) and turned upright by its EXIF orientation.
6. ALL metadata is dropped: EXIF (with GPS, camera serials), XMP, IPTC, comments and the ICC profile.
   The ICC decision: rather than keep a profile (phones write Display P3), pixels are converted to sRGB
   with LittleCMS and no profile is written, which is what browsers assume for untagged images. If the
   embedded profile is unusable the pixels are kept as they are.
7. The result is re-encoded as a progressive, optimised JPEG (quality 82) and a thumbnail is made.

HEIC/HEIF (iPhone default) is accepted only when the optional ``pillow-heif`` package is installed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageCms, ImageMode, ImageOps, UnidentifiedImageError

from webapp.calendar import SHANGHAI
from webapp.web import ServiceError

try:  # optional: HEIC/HEIF from iPhones
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIF_SUPPORTED = True
except ImportError:  # pragma: no cover - depends on the environment
    HEIF_SUPPORTED = False

MAX_BYTES = 20 * 1024 * 1024  # a phone original when the browser could not downscale (usually 2-8 MB)
MAX_PIXELS = 50_000_000  # 48 MP phone cameras (8064 x 6048) pass, bombs do not
# Decoded pixels + the RGB working copy. A phone JPEG is decoded at 1/2-1/8 scale (48 MP: 12 MB); a 12 MP RGB or
# 8 MP RGBA PNG/WebP passes; a big PNG or WebP (a screenshot of a screenshot, or an attack) does not.
MAX_DECODE_BYTES = 64 * 1024 * 1024
LONG_SIDE = 1600
THUMB = 320
QUALITY = 82
THUMB_QUALITY = 75

# Formats a phone camera or a browser canvas produces. MPO is what Pillow calls a JPEG with extra
# pictures (many Android and iPhone JPEGs); only the first picture is kept.
ACCEPTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "HEIF", "AVIF"})


# EXIF tags
_ORIENTATION = 0x0112
_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_DATETIME_ORIGINAL = 0x9003
_DATETIME_DIGITIZED = 0x9004
_OFFSET_TIME_ORIGINAL = 0x9011
_OFFSET_TIME_DIGITIZED = 0x9012
_GPS_LAT_REF, _GPS_LAT, _GPS_LON_REF, _GPS_LON = 1, 2, 3, 4


class PhotoError(ServiceError):
    """A photo the server will not accept. ``message`` is for the inspector (Chinese, on the ``photo`` field);
    ``code`` is for programs: empty, too_large, not_image, unsupported, too_many_pixels, too_much_memory, damaged."""

    def __init__(self, code: str, message: object) -> None:
        super().__init__({"photo": message})
        self.code = code


@dataclass(frozen=True)
class ProcessedPhoto:
    image: bytes  # the JPEG to store: upright, at most long_side, no metadata
    thumbnail: bytes  # JPEG, long side at most ``thumb``
    width: int
    height: int
    thumb_width: int
    thumb_height: int
    sha256: str  # of ``image`` (the stored bytes, i.e. its storage key)
    thumb_sha256: str
    original_sha256: str  # of the bytes as uploaded
    original_size: int  # bytes as uploaded
    original_format: str  # Pillow's name: JPEG, MPO, PNG, WEBP, HEIF, AVIF
    original_width: int  # as stored in the file, before orientation
    original_height: int
    captured_at: dt.datetime | None  # timezone-aware, UTC
    gps_lat: float | None  # decimal degrees, WGS 84 as the phone wrote it (north positive)
    gps_lon: float | None  # east positive
    content_type: str = "image/jpeg"

    @property
    def capture_time(self) -> dt.datetime | None:
        return self.captured_at

    @property
    def gps(self) -> tuple[float, float] | None:
        if self.gps_lat is None or self.gps_lon is None:
            return None
        return (self.gps_lat, self.gps_lon)


def process(
    data: bytes,
    *,
    max_bytes: int = MAX_BYTES,
    max_pixels: int = MAX_PIXELS,
    max_decode_bytes: int = MAX_DECODE_BYTES,
    long_side: int = LONG_SIDE,
    thumb: int = THUMB,
) -> ProcessedPhoto:
    """Check and clean one uploaded photo. Raises ``PhotoError`` for anything not to be stored."""
    if not data:
        raise PhotoError("empty", _l("文件是空的，请重新拍摄或选择照片。"))
    if len(data) > max_bytes:
        raise PhotoError(
            "too_large",
            _l("照片文件过大（%(size)s MB），最大 %(max)s MB。", size=_mb(len(data)), max=_mb(max_bytes)),
        )
    original_sha256 = hashlib.sha256(data).hexdigest()

    im = _open(data)  # header only
    fmt = im.format or ""
    if fmt not in ACCEPTED_FORMATS:
        raise PhotoError(
            "unsupported",
            _l("不支持的图片格式（%(fmt)s），请上传 JPEG、PNG 或 WebP 照片。", fmt=fmt or "?"),
        )
    width, height = im.size
    if width < 1 or height < 1 or width * height > max_pixels:
        raise _too_many_pixels(width, height, max_pixels)
    try:
        im.verify()
    except Exception:  # Pillow raises many types for broken files
        raise _damaged() from None

    im = _open(data)
    try:
        # JPEG: decode at 1/2, 1/4 or 1/8 scale when that still leaves at least the target size.
        target = _fit((width, height), long_side)
        if target != (width, height):
            im.draft("RGB", target)
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError):
        raise _damaged() from None
    # Before anything decodes pixels (a PNG's getexif() below does, to find an eXIf chunk after the data).
    needed = decode_bytes(im.size, im.mode)  # from the header and the JPEG scale
    if needed > max_decode_bytes:
        raise _too_much_memory(width, height, needed, max_decode_bytes)
    try:
        exif = im.getexif()
        captured_at = capture_time(exif)
        gps_lat, gps_lon = gps_of(exif)
        orientation = exif.get(_ORIENTATION, 1)
    except Exception:  # unreadable metadata is not a reason to refuse the photo
        captured_at, gps_lat, gps_lon, orientation = None, None, None, 1

    try:
        im.load()
        im = _first_frame(im)
        im = _to_srgb(im)
        size = _fit(im.size, long_side)
        if size != im.size:
            im = im.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        if orientation != 1:  # after the resize: turning fewer pixels is cheaper
            im.getexif()[_ORIENTATION] = orientation  # conversions above drop the EXIF
            im = ImageOps.exif_transpose(im)
        image = _encode(im, QUALITY)
        small = im.copy()
        small.thumbnail((thumb, thumb), Image.Resampling.LANCZOS, reducing_gap=2.0)
        thumbnail = _encode(small, THUMB_QUALITY)
    except PhotoError:
        raise
    except Image.DecompressionBombError:
        raise _too_many_pixels(width, height, max_pixels) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError):
        raise _damaged() from None
    except MemoryError:
        raise _too_many_pixels(width, height, max_pixels) from None

    return ProcessedPhoto(
        image=image,
        thumbnail=thumbnail,
        width=im.width,
        height=im.height,
        thumb_width=small.width,
        thumb_height=small.height,
        sha256=hashlib.sha256(image).hexdigest(),
        thumb_sha256=hashlib.sha256(thumbnail).hexdigest(),
        original_sha256=original_sha256,
        original_size=len(data),
        original_format=fmt,
        original_width=width,
        original_height=height,
        captured_at=captured_at,
        gps_lat=gps_lat,
        gps_lon=gps_lon,
    )


# --- opening and checking ------------------------------------------------------------------------


def _open(data: bytes) -> Image.Image:
    try:
        return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:  # over 2 x Image.MAX_IMAGE_PIXELS: never decoded
        raise PhotoError("too_many_pixels", _l("图片像素过多，可能是恶意文件，已拒绝。")) from None
    except UnidentifiedImageError:
        if _is_heif(data):  # an iPhone photo while pillow-heif is not installed
            raise PhotoError(
                "unsupported",
                _l("暂不支持 HEIC 格式的照片，请用本页的拍照按钮重新拍摄，或在相机设置中选择“兼容性最佳”。"),
            ) from None
        raise PhotoError("not_image", _l("这个文件不是图片，请上传照片（JPEG、PNG 或 WebP）。")) from None
    except Exception:  # a header Pillow recognises but cannot parse
        raise _damaged() from None


_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}


def _is_heif(data: bytes) -> bool:
    return data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS


def _damaged() -> PhotoError:
    return PhotoError("damaged", _l("照片文件已损坏或不完整，请重新上传。"))


def _too_many_pixels(width: int, height: int, max_pixels: int) -> PhotoError:
    return PhotoError(
        "too_many_pixels",
        _l(
            "图片尺寸过大（%(w)s×%(h)s 像素），最多 %(max)s 万像素。",
            w=width,
            h=height,
            max=max_pixels // 10_000,
        ),
    )


def decode_bytes(size: tuple[int, int], mode: str) -> int:
    """Bytes Pillow needs to decode an image of ``size`` and ``mode`` (width × height × bands × bit depth, as
    Pillow lays pixels out: 2-4 bands of 8 bits take 4 bytes) plus the pipeline's RGB working copy, which every
    mode but RGB and L needs (transparency flattened, palette, CMYK, 16-bit)."""
    try:
        desc = ImageMode.getmode(mode)
        bands, band_bytes = len(desc.bands), max(1, int(desc.typestr[-1]))
    except (KeyError, ValueError):  # a mode Pillow cannot describe: assume the widest common layout
        bands, band_bytes = 4, 1
    pixel = band_bytes if bands == 1 else 4 * band_bytes
    working = 0 if mode in ("RGB", "L") else 4
    return size[0] * size[1] * (pixel + working)


def _too_much_memory(width: int, height: int, needed: int, budget: int) -> PhotoError:
    return PhotoError(
        "too_much_memory",
        _l(
            "图片尺寸过大（%(w)s×%(h)s 像素），处理需要约 %(need)s MB 内存，超过上限 %(max)s MB。"
            "请用本页的拍照按钮拍摄，或缩小后上传 JPEG 照片。",
            w=width,
            h=height,
            need=_mb(needed, 0),
            max=_mb(budget, 0),
        ),
    )


def _mb(n: int, digits: int = 1) -> str:
    return f"{n / (1024 * 1024):.{digits}f}".rstrip("0").rstrip(".") if digits else f"{n / (1024 * 1024):.0f}"


# --- metadata read before stripping ----------------------------------------------------------------

_EXIF_DATETIME = re.compile(r"^\s*(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_OFFSET = re.compile(r"^\s*([+-])(\d{2}):(\d{2})\s*$")


def capture_time(exif: Image.Exif) -> dt.datetime | None:
    """EXIF DateTimeOriginal (else DateTimeDigitized) as an aware UTC datetime, or None."""
    ifd = exif.get_ifd(_EXIF_IFD)
    for tag, offset_tag in ((_DATETIME_ORIGINAL, _OFFSET_TIME_ORIGINAL), (_DATETIME_DIGITIZED, _OFFSET_TIME_DIGITIZED)):
        raw = ifd.get(tag)
        if not isinstance(raw, str):
            continue
        m = _EXIF_DATETIME.match(raw)
        if not m:
            continue
        try:
            year, month, day, hour, minute, second = (int(g) for g in m.groups())
            local = dt.datetime(year, month, day, hour, minute, second)  # zone attached below
        except ValueError:  # "0000:00:00 00:00:00" and other placeholders
            continue
        tz: dt.tzinfo = SHANGHAI
        off = _OFFSET.match(str(ifd.get(offset_tag) or ""))
        if off:
            minutes = int(off.group(2)) * 60 + int(off.group(3))
            tz = dt.timezone(dt.timedelta(minutes=-minutes if off.group(1) == "-" else minutes))
        return local.replace(tzinfo=tz).astimezone(dt.UTC)
    return None


def gps_of(exif: Image.Exif) -> tuple[float | None, float | None]:
    """GPS latitude/longitude in decimal degrees, or (None, None) when absent or nonsensical."""
    gps = exif.get_ifd(_GPS_IFD)
    if not gps:
        return None, None
    lat = _degrees(gps.get(_GPS_LAT), gps.get(_GPS_LAT_REF), "S")
    lon = _degrees(gps.get(_GPS_LON), gps.get(_GPS_LON_REF), "W")
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None, None
    return lat, lon


def _degrees(value: object, ref: object, negative: str) -> float | None:
    if not isinstance(value, tuple | list) or len(value) != 3:
        return None
    try:
        d, m, s = (float(v) for v in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if any(x != x or x < 0 for x in (d, m, s)):  # NaN (0/0 rationals) or negative parts
        return None
    deg = d + m / 60 + s / 3600
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    if str(ref or "").strip().upper() == negative:
        deg = -deg
    return round(deg, 7)


# --- pixels -----------------------------------------------------------------------------------------


def _fit(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    w, h = size
    longest = max(w, h)
    if longest <= long_side:
        return (w, h)
    scale = long_side / longest
    return (max(1, round(w * scale)), max(1, round(h * scale)))


def _first_frame(im: Image.Image) -> Image.Image:
    if getattr(im, "n_frames", 1) > 1:
        im.seek(0)
    return im


_SRGB = ImageCms.createProfile("sRGB")


def _to_srgb(im: Image.Image) -> Image.Image:
    """Plain RGB in sRGB: transparency flattened on white, embedded colour profile applied and dropped."""
    icc = im.info.get("icc_profile")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (im.mode == "P" and "transparency" in im.info):
        rgba = im if im.mode == "RGBA" else im.convert("RGBA")  # no second copy of an RGBA image
        out = Image.new("RGB", rgba.size, (255, 255, 255))
        out.paste(rgba, mask=rgba.getchannel("A"))
    elif im.mode.startswith("I") or im.mode == "F":  # 16/32-bit greyscale: scale to 8 bits
        out = im.convert("I").point(lambda v: v * (1 / 256)).convert("L")
        icc = None
    elif im.mode in ("RGB", "CMYK", "L"):
        out = im
    else:
        out = im.convert("RGB")
    if icc:
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(out, src, _SRGB, outputMode="RGB")
            out = converted if converted is not None else out  # None only when converting in place
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # unusable profile: keep the pixels as they are
    return out if out.mode == "RGB" else out.convert("RGB")


def _encode(im: Image.Image, quality: int) -> bytes:
    """JPEG with no metadata at all: a fresh image carrying only pixels (no EXIF, XMP, ICC, comment)."""
    clean = Image.frombytes("RGB", im.size, im.convert("RGB").tobytes())
    buf = io.BytesIO()
    clean.save(buf, "JPEG", quality=quality, progressive=True, optimize=True)
    return buf.getvalue()
