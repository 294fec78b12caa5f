"""Content-addressed file store for photos (and other immutable blobs): the key is the SHA-256 of the bytes.

``put(data) -> sha256`` writes ``<root>/ab/cd/<sha256>.jpg`` atomically (a temporary file in the same
folder, fsync, ``os.replace``), so a reader never sees half a file and two processes storing the same
bytes at once both succeed with one file. Storing the same bytes again is a no-op. ``open``, ``get``,
``path`` and ``exists`` read it back; keys are checked to be 64 lowercase hex digits, so a key can
never point outside the root.

The root comes from ``STORAGE_URL`` (``file:///abs/path`` or a plain path; webapp/config.py defaults it
to ``<instance>/storage``): the Flask app's config when called inside an app context, otherwise the
``STORAGE_URL`` environment variable. No Flask import at module level; ``LocalStorage(root)`` can be
used directly (scripts, benchmarks, tests). The S3-compatible backend named in DESIGN.md is not written
yet: an ``s3://`` URL raises ``NotImplementedError``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import threading
from pathlib import Path
from typing import IO
from urllib.parse import unquote, urlparse

_KEY = re.compile(r"^[0-9a-f]{64}$")
_EXT = re.compile(r"^[a-z0-9]{1,8}$")


class LocalStorage:
    """Files under one folder, sharded by the first two bytes of the hash: ``ab/cd/abcd….jpg``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, sha256: str, ext: str = "jpg") -> Path:
        key = _check_key(sha256)
        if not _EXT.match(ext):
            raise ValueError(f"bad extension {ext!r}")
        return self.root / key[:2] / key[2:4] / f"{key}.{ext}"

    def put(self, data: bytes, ext: str = "jpg") -> str:
        sha = hashlib.sha256(data).hexdigest()
        target = self.path(sha, ext)
        if target.is_file() and target.stat().st_size == len(data):
            return sha  # same bytes already stored (the name is their hash)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=f".{ext}")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)  # atomic; a concurrent writer of the same key writes the same bytes
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return sha

    def exists(self, sha256: str, ext: str = "jpg") -> bool:
        return self.path(sha256, ext).is_file()

    def open(self, sha256: str, ext: str = "jpg") -> IO[bytes]:
        """A binary file object; ``FileNotFoundError`` if nothing is stored under that key."""
        return self.path(sha256, ext).open("rb")

    def get(self, sha256: str, ext: str = "jpg") -> bytes:
        return self.path(sha256, ext).read_bytes()


def _check_key(sha256: str) -> str:
    if not isinstance(sha256, str) or not _KEY.match(sha256):
        raise ValueError("storage key must be a lowercase hex SHA-256")
    return sha256


def from_url(url: str) -> LocalStorage:
    """A store for ``STORAGE_URL``: ``file:///abs/path`` or a plain folder path."""
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        path = unquote(parsed.path) if parsed.scheme == "file" else url
        if parsed.scheme == "file" and parsed.netloc not in ("", "localhost"):
            raise ValueError(f"file URL with a host is not supported: {url!r}")
        return LocalStorage(path)
    if parsed.scheme in ("s3", "s3+http", "s3+https"):
        raise NotImplementedError("S3-compatible storage is not implemented yet; use a file:// STORAGE_URL")
    raise ValueError(f"unsupported STORAGE_URL scheme {parsed.scheme!r}")


_stores: dict[str, LocalStorage] = {}
_lock = threading.Lock()


def current() -> LocalStorage:
    """The configured store: the Flask app's ``STORAGE_URL`` in an app context, else the environment's."""
    url = None
    try:
        from flask import current_app, has_app_context

        if has_app_context():
            url = current_app.config.get("STORAGE_URL")
    except ImportError:  # pragma: no cover - Flask is always installed with the app
        pass
    url = url or os.environ.get("STORAGE_URL")
    if not url:
        raise RuntimeError("STORAGE_URL is not configured")
    with _lock:
        store = _stores.get(url)
        if store is None:
            store = _stores[url] = from_url(url)
    return store


def put(data: bytes, ext: str = "jpg") -> str:
    """Store ``data``; returns its SHA-256 (the key). Idempotent."""
    return current().put(data, ext)


def open(sha256: str, ext: str = "jpg") -> IO[bytes]:  # the store's verb (shadows the builtin here only)
    return current().open(sha256, ext)


def get(sha256: str, ext: str = "jpg") -> bytes:
    return current().get(sha256, ext)


def path(sha256: str, ext: str = "jpg") -> Path:
    return current().path(sha256, ext)


def exists(sha256: str, ext: str = "jpg") -> bool:
    return current().exists(sha256, ext)
