"""Route guards: who may open a URL at all (object-level rules are in :mod:`webapp.auth.access`).

Every view carries exactly one guard from this module. ``create_app`` refuses to start when an
endpoint has none (see :func:`check_all_guarded`), so a new page cannot be exposed by forgetting.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, abort, redirect, request, url_for
from flask_login import current_user

from webapp.auth.models import Role

GUARD_ATTR = "_suijian_access"


def public(view: Callable) -> Callable:
    """Explicitly open to everyone, logged in or not."""
    setattr(view, GUARD_ATTR, "public")
    return view


def _guard(view: Callable, roles: frozenset[Role] | None) -> Callable:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        if not current_user.is_authenticated:
            # htmx and queued changes from the phone (X-Client-Id: answered with JSON) get 401, not the login page
            if request.headers.get("HX-Request") or request.headers.get("X-Client-Id"):
                abort(401)
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if roles is not None and current_user.role not in roles:
            abort(403)
        return view(*args, **kwargs)

    setattr(wrapper, GUARD_ATTR, "login" if roles is None else tuple(sorted(r.value for r in roles)))
    return wrapper


def login_required(view: Callable) -> Callable:
    """Any logged-in user; object-level checks are the rules of :mod:`webapp.auth.access`."""
    return _guard(view, None)


def roles_required(*roles: Role) -> Callable[[Callable], Callable]:
    allowed = frozenset(roles)

    def decorator(view: Callable) -> Callable:
        return _guard(view, allowed)

    return decorator


supervisor_required = roles_required(Role.SUPERVISOR, Role.ADMIN)
admin_required = roles_required(Role.ADMIN)
inspector_required = roles_required(Role.INSPECTOR)


def check_all_guarded(app: Flask) -> None:
    missing = [
        endpoint for endpoint, fn in app.view_functions.items() if endpoint != "static" and not hasattr(fn, GUARD_ATTR)
    ]
    if missing:
        raise RuntimeError(f"endpoints without an access guard: {', '.join(sorted(missing))}")


def guard_of(app: Flask, endpoint: str) -> Any:
    return getattr(app.view_functions[endpoint], GUARD_ATTR, None)
