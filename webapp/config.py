"""Settings from environment variables, with safe defaults for local use.

Only ``create_app`` reads this module. Production (``SUIJIAN_ENV=production``)
refuses to start with the default secret key or with per-process (``memory://``) rate-limit storage.
"""

from __future__ import annotations

import datetime as dt
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
        # Rate-limit counters: Redis in production (redis://host:6379), so every worker and app server counts
        # together; memory:// (one count per process) only for local use - production refuses it below.
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", "suijian"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Login: wrong passwords per account (brute force, from any address) ...
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour"),
        # ... wrong passwords per client address (password spraying over many accounts) ...
        "LOGIN_IP_FAILURE_LIMIT": os.environ.get("LOGIN_IP_FAILURE_LIMIT", "100 per minute;1000 per hour"),
        # ... and every attempt per address: generous, 200 inspectors behind one office or carrier NAT log in at once.
        "LOGIN_IP_RATE_LIMIT": os.environ.get("LOGIN_IP_RATE_LIMIT", "600 per minute"),
        "SESSION_COOKIE_HTTPONLY": True,
        # A login lasts a working day, also across closing the phone's browser (the outbox waits for the same user
        # to be signed in before it syncs); logout ends it on the server at once.
        "PERMANENT_SESSION_LIFETIME": dt.timedelta(hours=int(os.environ.get("SESSION_HOURS", "14"))),
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", production),
        "REMEMBER_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", production),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_CONTENT_LENGTH", str(64 * 1024 * 1024))),
        # Anonymous requests (login, the public site) are refused above this before anything reads the body.
        "ANONYMOUS_MAX_CONTENT_LENGTH": int(os.environ.get("ANONYMOUS_MAX_CONTENT_LENGTH", str(64 * 1024))),
        # werkzeug's form parser: non-file fields held in memory (a signature's strokes are the largest) and
        # the number of parts of a multipart body; files above 500 KB are spooled to disk.
        "MAX_FORM_MEMORY_SIZE": 1024 * 1024,
        "MAX_FORM_PARTS": 1000,
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", ""),
        "IMPORT_MAX_ROWS": int(os.environ.get("IMPORT_MAX_ROWS", "200000")),
        "PAGE_SIZE": 50,
        # The dashboard's year-to-date figures are recomputed in the background when older than this (0: always).
        "DASHBOARD_CACHE_SECONDS": int(os.environ.get("DASHBOARD_CACHE_SECONDS", "300")),
        # The job queue (webapp/queue.py): empty = SQLite under the instance folder; redis://… in production.
        "QUEUE_URL": os.environ.get("QUEUE_URL", ""),
        # Run queued tasks at once where they are enqueued (tests; a debugging aid), no worker needed.
        "QUEUE_IMMEDIATE": _bool("QUEUE_IMMEDIATE", False),
        # How many reverse proxies in front of the app set X-Forwarded-For/-Proto (0: none, e.g. local use).
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
    }
    if production and cfg["SECRET_KEY"] == DEFAULT_SECRET:
        raise RuntimeError("SECRET_KEY must be set in production (SUIJIAN_ENV=production).")
    if production and cfg["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        raise RuntimeError(
            "RATELIMIT_STORAGE_URI must name shared storage in production, e.g. redis://127.0.0.1:6379 "
            "(memory:// counts per process: each worker would allow the full login limit)."
        )
    if production:
        # A database error is logged with its statement; never with the values (names, search words) in it.
        cfg["SQLALCHEMY_ENGINE_OPTIONS"]["hide_parameters"] = True
    return cfg


def _normalise_db_url(url: str) -> str:
    """Accept the usual postgres:// spellings and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
