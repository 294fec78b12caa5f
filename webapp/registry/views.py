"""Blueprint of the two libraries (两库). Routes live in the modules imported at the bottom."""

from flask import Blueprint

bp = Blueprint("registry", __name__, url_prefix="/registry")

from webapp.registry.audit import views as audit_views  # noqa: E402, F401  (route modules register on bp)
from webapp.registry.imports import views as import_views  # noqa: E402, F401
from webapp.registry.inspectors import views as inspector_views  # noqa: E402, F401
from webapp.registry.units import views as unit_views  # noqa: E402, F401
