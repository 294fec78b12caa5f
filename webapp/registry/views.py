"""Blueprint of the two libraries (两库). Routes live in the modules imported at the bottom."""

from flask import Blueprint

bp = Blueprint("registry", __name__, url_prefix="/registry")

from webapp.registry import (  # noqa: E402, F401  (route modules register on bp)
    audit_views,
    import_views,
    inspector_views,
    unit_views,
)
