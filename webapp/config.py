"""Settings from environment variables, with safe defaults for local use.

Only ``create_app`` reads this module. Production (``SUIJIAN_ENV=production``)
refuses to start with the default secret key.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_SECRET = "dev-only-not-secret"  # noqa: S105 - refused in production below
BASE_DIR = Path(__file__).resolve().parent.parent


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def from_env(instance_path: str) -> dict:
    """Build the Flask config mapping from the environment."""
    env = os.environ.get("SUIJIAN_ENV", "development")
    production = env == "production"
    sqlite_default = "sqlite:///" + str(Path(instance_path) / "suijian.db")
    storage_default = "file://" + str(Path(instance_path) / "storage")
    cfg = {
        "ENV_NAME": env,
        "SECRET_KEY": os.environ.get("SECRET_KEY", DEFAULT_SECRET),
        "SQLALCHEMY_DATABASE_URI": _normalise_db_url(os.environ.get("DATABASE_URL", sqlite_default)),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "STORAGE_URL": os.environ.get("STORAGE_URL", storage_default),
        "BABEL_DEFAULT_LOCALE": os.environ.get("BABEL_DEFAULT_LOCALE", "zh_Hans"),
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "BABEL_TRANSLATION_DIRECTORIES": str(BASE_DIR / "webapp" / "translations"),
        "LANGUAGES": ["zh_Hans", "en"],
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as the session
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", production),
        "REMEMBER_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", production),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_CONTENT_LENGTH", str(64 * 1024 * 1024))),
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", ""),
        "IMPORT_MAX_ROWS": int(os.environ.get("IMPORT_MAX_ROWS", "200000")),
        "PAGE_SIZE": 50,
        # The dashboard's year-to-date figures are recomputed in the background when older than this (0: always).
        "DASHBOARD_CACHE_SECONDS": int(os.environ.get("DASHBOARD_CACHE_SECONDS", "300")),
        # How many reverse proxies in front of the app set X-Forwarded-For/-Proto (0: none, e.g. local use).
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
    }
    if production and cfg["SECRET_KEY"] == DEFAULT_SECRET:
        raise RuntimeError("SECRET_KEY must be set in production (SUIJIAN_ENV=production).")
    return cfg


def _normalise_db_url(url: str) -> str:
    """Accept the usual postgres:// spellings and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
