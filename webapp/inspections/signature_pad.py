"""On-screen signatures: validate signature_pad strokes, render the PNG on the server, bind to a record hash.

Plain module (no database, no request): the views and models of issue 4 call it.

The client (signature_pad 5.1.4, ``static/vendor/``) sends ``signaturePad.toData()`` as JSON — a list of
strokes ``{"points": [{"x", "y", "time", "pressure"}, ...], "penColor", "dotSize", "minWidth", ...}`` in
CSS pixels of the canvas — together with the canvas's CSS width and height. :func:`validate` checks and
normalises that data and draws the PNG from the *kept* strokes with Pillow, so the stored image is always
derived from the stored vector data and never taken from the client.

Thresholds (why a real name passes and a dot or a tick fails)
-------------------------------------------------------------
signature_pad records a point at most every 16 ms and only after the pen has moved ``minDistance`` (5 px),
so a name written on a phone (340 × 200 px pad) gives a few hundred points, a bounding box of at least
~100 × 40 px and several hundred pixels of ink. A tap gives one point; a quick tick gives ~5–15 points,
~40 px of ink. The minimums are:

* ``MIN_POINTS`` = 15 points in total;
* bounding box diagonal ≥ ``MIN_BBOX_DIAGONAL_RATIO`` (12 %) of the canvas diagonal
  (47 px on a 340 × 200 pad);
* ink length (sum of segment lengths) ≥ ``MIN_INK_RATIO`` (40 %) of the canvas diagonal
  (157 px on a 340 × 200 pad).

Limits: at most ``MAX_STROKES`` strokes, ``MAX_POINTS`` points and ``MAX_JSON_BYTES`` of JSON — ample for
any signature, small enough to keep a record bounded. Coordinates must be finite numbers; points up to
``EDGE_TOLERANCE`` outside the canvas (a finger sliding over the edge) are clamped to the edge, points
further out are refused: storing them clipped would cut the drawing, so the signer is asked to sign again.

Bounded canvas (issue 12, finding 1): drawing cost grows with the canvas, and a client may claim a pad of up
to ``MAX_CANVAS`` (2400 × 1600, drawn 3× supersampled: 35 MP, ~10 s per drawing). The strokes are therefore
scaled, keeping the aspect ratio, into at most ``STORED_CANVAS`` (600 × 300) before they are stored, hashed and
drawn; a phone pad (340 × 200) is kept as it is. The PNG is drawn once, when the signature is saved, and
stored by its hash (webapp/inspections/signing.py); a view serves the stored bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import itertools
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from PIL import Image, ImageDraw

from webapp.web import ServiceError

MAX_JSON_BYTES = 256 * 1024
MAX_STROKES = 120  # a written name has at most a few dozen pen-ups
MAX_POINTS = 3000  # ~48 s of continuous writing at one point per 16 ms
MIN_POINTS = 15
MIN_BBOX_DIAGONAL_RATIO = 0.12
MIN_INK_RATIO = 0.40
EDGE_TOLERANCE = 0.10  # fraction of the canvas dimension (at least EDGE_TOLERANCE_MIN_PX)
EDGE_TOLERANCE_MIN_PX = 12.0
MIN_CANVAS = (120, 60)  # CSS px; a 360 px phone gives ~320-340 px of pad width
MAX_CANVAS = (2400, 1600)
STORED_CANVAS = (600, 300)  # strokes are scaled into this box before they are stored, hashed and drawn
MAX_TIME = 2**53  # JavaScript's largest exact integer; signature_pad's time is Date.now() in ms

PEN_WIDTH = 2.5  # px at canvas scale, signature_pad's default maxWidth
DOT_RADIUS = 1.5  # px, signature_pad's default dotSize ((minWidth + maxWidth) / 2)
SUPERSAMPLE = 3  # draw at 3x and downscale for smooth edges
DEFAULT_COLOR = "#000000"

ROLE_RE = re.compile(r"^[a-z][a-z0-9_.:-]{0,63}$")
HASH_RE = re.compile(r"^[0-9a-f]{64}$")
HEX_COLOR_RE = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
MAX_REFUSAL_REASON = 500
MIN_REFUSAL_REASON = 2


class SignatureError(ServiceError):
    """The signature cannot be accepted. ``message`` is Chinese and is shown next to the pad (``strokes``)."""

    def __init__(self, message: str, field: str = "strokes") -> None:
        super().__init__(message, field)


@dataclass(frozen=True)
class Signature:
    """A validated signature: normalised strokes, their canonical JSON and the PNG drawn from them."""

    strokes: list[dict[str, Any]]  # in the stored canvas's px
    canonical_json: str  # what is stored and hashed
    width: int  # the stored canvas: the pad's CSS px, scaled into STORED_CANVAS
    height: int
    png: bytes  # width x height, RGBA, transparent background
    point_count: int
    ink_length: float  # px
    bbox: tuple[float, float, float, float]  # min_x, min_y, max_x, max_y

    @property
    def strokes_sha256(self) -> str:
        return hashlib.sha256(self.canonical_json.encode("utf-8")).hexdigest()

    @property
    def png_sha256(self) -> str:
        return hashlib.sha256(self.png).hexdigest()


@dataclass(frozen=True)
class Refusal:
    """The signer refused to sign; the reason is recorded instead of a signature."""

    reason: str


# ------------------------------------------------------------------------------------------ parsing


def _reject_constant(name: str) -> float:
    # json.loads accepts NaN / Infinity by default; signature data must never contain them.
    raise SignatureError(_("签名数据包含无效数值，请重新签名。"))


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SignatureError(_("签名数据包含无效数值，请重新签名。"))
    number = float(value)
    if not math.isfinite(number):
        raise SignatureError(_("签名数据包含无效数值，请重新签名。"))
    return number


def _canvas_size(width: Any, height: Any) -> tuple[int, int]:
    try:
        w, h = _number(width), _number(height)
    except SignatureError:
        raise SignatureError(_("签名区域尺寸无效，请刷新页面后重新签名。")) from None
    w_int, h_int = round(w), round(h)
    if not (MIN_CANVAS[0] <= w_int <= MAX_CANVAS[0] and MIN_CANVAS[1] <= h_int <= MAX_CANVAS[1]):
        raise SignatureError(_("签名区域尺寸无效，请刷新页面后重新签名。"))
    return w_int, h_int


def _parse(strokes_json: str | bytes | list | None) -> list:
    if strokes_json is None or (isinstance(strokes_json, str | bytes | list) and not strokes_json):
        raise SignatureError(_("请签名后再提交。"))  # an empty pad (a form posted without drawing)
    if isinstance(strokes_json, list):
        return strokes_json
    if isinstance(strokes_json, str):
        raw = strokes_json.encode("utf-8")
    elif isinstance(strokes_json, bytes | bytearray):
        raw = bytes(strokes_json)
    else:
        raise SignatureError(_("签名数据无法读取，请重新签名。"))
    if len(raw) > MAX_JSON_BYTES:
        raise SignatureError(_("签名数据过大，请清除后重新签名。"))
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        if isinstance(exc, SignatureError):
            raise
        raise SignatureError(_("签名数据无法读取，请重新签名。")) from None
    if not isinstance(data, list):
        raise SignatureError(_("签名数据无法读取，请重新签名。"))
    return data


def _color(value: Any) -> str:
    if isinstance(value, str):
        value = value.strip()
        if value.lower() == "black":
            return DEFAULT_COLOR
        if HEX_COLOR_RE.match(value):
            if len(value) == 4:
                value = "#" + "".join(c * 2 for c in value[1:])
            return value.lower()
    return DEFAULT_COLOR


def stored_canvas(width: int, height: int) -> tuple[float, int, int]:
    """The scale factor (≤ 1) and the stored canvas size for a pad of ``width`` × ``height`` CSS px."""
    scale = min(1.0, STORED_CANVAS[0] / width, STORED_CANVAS[1] / height)
    return scale, max(1, round(width * scale)), max(1, round(height * scale))


def _normalise(data: list, width: int, height: int) -> list[dict[str, Any]]:
    """Check the pad's strokes (``width`` × ``height`` CSS px) and scale them into the stored canvas."""
    tol_x = max(EDGE_TOLERANCE_MIN_PX, EDGE_TOLERANCE * width)
    tol_y = max(EDGE_TOLERANCE_MIN_PX, EDGE_TOLERANCE * height)
    scale, out_w, out_h = stored_canvas(width, height)
    if len(data) > MAX_STROKES:  # refused before any point is read
        raise SignatureError(_("签名笔画过多，请清除后重新签名。"))
    strokes: list[dict[str, Any]] = []
    total = 0
    for stroke in data:
        if not isinstance(stroke, dict) or not isinstance(stroke.get("points"), list):
            raise SignatureError(_("签名数据无法读取，请重新签名。"))
        op = stroke.get("compositeOperation", "source-over")
        if op not in (None, "source-over"):
            # an eraser stroke ("destination-out") would make the PNG differ from the ink; the pad has none
            raise SignatureError(_("签名数据无法读取，请重新签名。"))
        points: list[dict[str, Any]] = []
        for point in stroke["points"]:
            if not isinstance(point, dict):
                raise SignatureError(_("签名数据无法读取，请重新签名。"))
            x, y = _number(point.get("x")), _number(point.get("y"))
            if not (-tol_x <= x <= width + tol_x and -tol_y <= y <= height + tol_y):
                raise SignatureError(_("签名超出了签名框，请在框内重新签名。"))
            time = point.get("time", 0)
            time = 0 if time is None else _number(time)
            if not 0 <= time <= MAX_TIME:
                raise SignatureError(_("签名数据包含无效数值，请重新签名。"))
            pressure = point.get("pressure", 0.5)
            pressure = 0.5 if pressure is None else _number(pressure)
            if total + len(points) >= MAX_POINTS:
                raise SignatureError(_("签名数据过大，请清除后重新签名。"))
            points.append(
                {
                    "x": min(round(min(max(x, 0.0), float(width)) * scale, 2), float(out_w)),
                    "y": min(round(min(max(y, 0.0), float(height)) * scale, 2), float(out_h)),
                    "time": int(time),
                    "pressure": round(min(max(pressure, 0.0), 1.0), 3),
                }
            )
        total += len(points)
        if points:
            strokes.append({"penColor": _color(stroke.get("penColor")), "points": points})
            if len(strokes) > MAX_STROKES:
                raise SignatureError(_("签名笔画过多，请清除后重新签名。"))
    return strokes


def canonical_json(strokes: list[dict[str, Any]]) -> str:
    """The one serialisation of normalised strokes that is stored and hashed (sorted keys, no spaces)."""
    return json.dumps(strokes, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


# ------------------------------------------------------------------------------------------ checks


def _measure(strokes: list[dict[str, Any]]) -> tuple[int, float, tuple[float, float, float, float]]:
    xs = [p["x"] for s in strokes for p in s["points"]]
    ys = [p["y"] for s in strokes for p in s["points"]]
    ink = 0.0
    for stroke in strokes:
        pts = stroke["points"]
        for a, b in itertools.pairwise(pts):
            ink += math.hypot(b["x"] - a["x"], b["y"] - a["y"])
    bbox = (min(xs), min(ys), max(xs), max(ys)) if xs else (0.0, 0.0, 0.0, 0.0)
    return len(xs), ink, bbox


def _check_enough(point_count: int, ink: float, bbox: tuple[float, float, float, float], w: int, h: int) -> None:
    if point_count == 0:
        raise SignatureError(_("请签名后再提交。"))
    diagonal = math.hypot(w, h)
    bbox_diagonal = math.hypot(bbox[2] - bbox[0], bbox[3] - bbox[1])
    if point_count < MIN_POINTS or bbox_diagonal < MIN_BBOX_DIAGONAL_RATIO * diagonal or ink < MIN_INK_RATIO * diagonal:
        raise SignatureError(_("签名过短或过小，请用正常大小写下完整姓名。"))


# ------------------------------------------------------------------------------------------ rendering


def render_png(strokes: list[dict[str, Any]], width: int, height: int) -> bytes:
    """Draw normalised strokes on a transparent ``width`` x ``height`` canvas and return PNG bytes."""
    s = SUPERSAMPLE
    image = Image.new("RGBA", (width * s, height * s), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    pen = max(1, round(PEN_WIDTH * s))
    for stroke in strokes:
        colour = stroke["penColor"]
        pts = [(p["x"] * s, p["y"] * s) for p in stroke["points"]]
        if len(pts) == 1:
            r = DOT_RADIUS * s
            x, y = pts[0]
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
            continue
        draw.line(pts, fill=colour, width=pen, joint="curve")
        r = pen / 2
        for x, y in (pts[0], pts[-1]):  # round caps
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    # premultiplied alpha while resampling, so transparent white does not bleed into the ink
    image = image.convert("RGBa").resize((width, height), Image.Resampling.LANCZOS).convert("RGBA")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


# ------------------------------------------------------------------------------------------ public API


def validate(strokes_json: str | bytes | list | None, width: Any, height: Any) -> Signature:
    """Check, normalise (scaled into ``STORED_CANVAS``) and render a signature_pad signature; raise
    :class:`SignatureError` (Chinese)."""
    pad_w, pad_h = _canvas_size(width, height)
    strokes = _normalise(_parse(strokes_json), pad_w, pad_h)
    _scale, w, h = stored_canvas(pad_w, pad_h)
    point_count, ink, bbox = _measure(strokes)
    _check_enough(point_count, ink, bbox, w, h)
    return Signature(
        strokes=strokes,
        canonical_json=canonical_json(strokes),
        width=w,
        height=h,
        png=render_png(strokes, w, h),
        point_count=point_count,
        ink_length=round(ink, 2),
        bbox=bbox,
    )


def refusal(reason: Any) -> Refusal:
    """A refusal to sign (拒绝签字); the reason is required."""
    text = " ".join(reason.split()) if isinstance(reason, str) else ""
    if len(text) < MIN_REFUSAL_REASON:
        raise SignatureError(_("请填写拒绝签字的原因。"))
    if len(text) > MAX_REFUSAL_REASON:
        raise SignatureError(_("拒绝签字的原因不能超过%(n)s个字。", n=MAX_REFUSAL_REASON))
    return Refusal(reason=text)


def _utc_iso(signed_at: dt.datetime) -> str:
    if not isinstance(signed_at, dt.datetime) or signed_at.tzinfo is None or signed_at.utcoffset() is None:
        raise ValueError("signed_at must be a timezone-aware datetime")
    return signed_at.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _binding(kind: str, record_hash: str, payload_sha256: str, signer_role: str, signed_at: dt.datetime) -> str:
    if not isinstance(record_hash, str) or not HASH_RE.match(record_hash):
        raise ValueError("record_hash must be a lowercase hex SHA-256")
    if not isinstance(signer_role, str) or not ROLE_RE.match(signer_role):
        raise ValueError("signer_role must match " + ROLE_RE.pattern)
    body = {
        "v": 1,
        "kind": kind,
        "record_hash": record_hash,
        "payload_sha256": payload_sha256,
        "signer_role": signer_role,
        "signed_at": _utc_iso(signed_at),
    }
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def binding_hash(record_hash: str, strokes_canonical_json: str, signer_role: str, signed_at: dt.datetime) -> str:
    """SHA-256 binding a signature to the record as it was when signed.

    Canonical serialisation (UTF-8, sorted keys, no spaces) of ``{"v": 1, "kind": "signature",
    "record_hash", "payload_sha256": sha256(strokes_canonical_json), "signer_role", "signed_at"}`` where
    ``signed_at`` is ISO 8601 in UTC with microseconds. Any change to the record (its hash), the strokes,
    the role or the time gives another hash; a signature whose stored binding no longer matches the current
    record hash must be given again.
    """
    payload = hashlib.sha256(strokes_canonical_json.encode("utf-8")).hexdigest()
    return _binding("signature", record_hash, payload, signer_role, signed_at)


def refusal_binding_hash(record_hash: str, reason: str, signer_role: str, signed_at: dt.datetime) -> str:
    """Like :func:`binding_hash` for a refusal to sign; the reason takes the place of the strokes."""
    payload = hashlib.sha256(reason.encode("utf-8")).hexdigest()
    return _binding("refusal", record_hash, payload, signer_role, signed_at)


def binding_matches(
    expected: str, record_hash: str, strokes_canonical_json: str, signer_role: str, signed_at: dt.datetime
) -> bool:
    """True when a stored binding still matches the record hash (constant-time comparison)."""
    actual = binding_hash(record_hash, strokes_canonical_json, signer_role, signed_at)
    return hmac.compare_digest(expected, actual)
