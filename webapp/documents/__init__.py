"""PDF and QR building blocks shared by the inspection documents and the rectification notice.

``pdf`` (font, styles, paragraphs, the inspector table, dates, required-field checks, building an A4 PDF) and
``qr`` (QR codes as PNG, SVG or module matrix for a verification URL). Plain modules: no database, no request.
The documents themselves live with their domain: ``webapp.inspections.documents`` (行政检查通知书, 检查表) and
``webapp.rectification.documents`` (责令限期改正通知书).
"""

from __future__ import annotations

from webapp.web import ServiceError


class DocumentError(ServiceError):
    """The data of a document is incomplete or not valid; the Chinese message names what is missing."""
