"""QR codes for verification URLs: error correction level M, the standard 4-module quiet zone.

The PNG, the SVG and the PDF block (:func:`webapp.documents.pdf.qr_block`) all draw :func:`matrix`.
"""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import qrcode
import qrcode.image.svg
from flask_babel import gettext as _

from webapp.documents import DocumentError

BORDER = 4
MAX_URL = 500


def check_url(url: str) -> str:
    """``url`` if it is an absolute http(s) URL of at most ``MAX_URL`` characters; else DocumentError."""
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or len(url) > MAX_URL:
        raise DocumentError(_("核验网址无效，必须是以 http:// 或 https:// 开头的完整网址。"))
    return url


def _code(url: str) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=BORDER, box_size=10)
    code.add_data(check_url(url))
    code.make(fit=True)
    return code


def matrix(url: str) -> list[list[bool]]:
    """The QR modules for ``url`` including the quiet zone (True = dark); what the PNG/SVG/PDF draw."""
    return _code(url).get_matrix()


def png(url: str, box_size: int = 10) -> bytes:
    """QR code as PNG bytes: ``box_size`` pixels per module, black on white, 4-module quiet zone."""
    code = _code(url)
    code.box_size = box_size
    out = io.BytesIO()
    code.make_image().save(out)  # qrcode's Pillow factory
    return out.getvalue()


def svg(url: str) -> str:
    """QR code as a standalone SVG document (one path; scales without blur on printable pages)."""
    image = _code(url).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    return image.to_string(encoding="unicode")
