"""一公开: the public site, no login, rooted at /public/."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("public", __name__, url_prefix="/public")
