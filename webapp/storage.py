"""Object storage for photos, signatures, exports, import files and audit anchors: a local folder or an
S3-compatible bucket, chosen by ``STORAGE_URL``.

Two kinds of objects, the same API on both backends (:class:`Storage`):

* **content-addressed** blobs (photos, signature PNGs, export workbooks): ``put(data, ext) -> sha256``; the key
  is the SHA-256 of the bytes, stored as ``ab/cd/<sha256>.<ext>``; storing the same bytes again is a no-op.
  ``get``, ``open`` and ``exists`` read it back. Keys are checked to be 64 lowercase hex digits.
* **named** objects (import files, audit anchors): ``put_object(name, data)`` with a path-like name such as
  ``imports/J-abc.xlsx`` (segments of letters, digits, ``.``, ``_``, ``-``; no ``..``, no leading dot; the first
  segment at least three characters so names never mix with the ``ab/cd/`` blobs), ``get_object``,
  ``open_object``, ``object_exists``, ``delete_object``, ``list_objects(prefix)`` and ``local_copy(name)`` (a file
  on disk for readers that need a path). ``put_object(..., create_only=True)`` refuses to replace an existing
  object (``FileExistsError``): the audit anchors are append-only.

Missing objects raise ``FileNotFoundError`` on both backends; malformed keys or names ``ValueError``.

``STORAGE_URL``:

* ``file:///abs/path`` or a plain path — :class:`LocalStorage`: writes are atomic (a temporary file in the same
  folder, fsync, ``os.replace``; create-only with ``os.link``), so a reader never sees half a file. This is the
  default (``<instance>/storage``, webapp/config.py) and fits one app server.
* ``s3://bucket/prefix`` — :class:`S3Storage` (boto3), for several app servers: the endpoint comes from
  ``S3_ENDPOINT_URL`` (MinIO, Ceph, a cloud's S3 API; unset: AWS itself or boto3's ``AWS_ENDPOINT_URL_S3``), the
  region from ``AWS_DEFAULT_REGION`` / ``S3_REGION``, credentials from boto3's usual chain
  (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``, a profile, an instance role). Path-style addressing is used
  with a custom endpoint (``S3_ADDRESSING_STYLE`` overrides). The bucket must exist.

The URL is read from the Flask app's config inside an app context, otherwise from the ``STORAGE_URL``
environment variable. No Flask import at module level; ``LocalStorage(root)`` / ``from_url(url)`` can be used
directly (scripts, benchmarks, tests).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlparse

_KEY = re.compile(r"^[0-9a-f]{64}$")
_EXT = re.compile(r"^[a-z0-9]{1,8}$")
_SEGMENT = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$")
_FIRST_SEGMENT = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{2,}$")  # never "ab": that is the blobs' shard folder
_CHUNK = 1 << 20
_CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
    "json": "application/json",
    "pdf": "application/pdf",
}

Data = bytes | IO[bytes]


def _check_key(sha256: str) -> str:
    if not isinstance(sha256, str) or not _KEY.match(sha256):
        raise ValueError("storage key must be a lowercase hex SHA-256")
    return sha256


def _check_ext(ext: str) -> str:
    if not isinstance(ext, str) or not _EXT.match(ext):
        raise ValueError(f"bad extension {ext!r}")
    return ext


def check_name(name: str) -> str:
    """``name`` if it is a valid object name (``imports/J-abc.xlsx``), else ``ValueError``."""
    if not isinstance(name, str) or len(name) > 512:
        raise ValueError("object name must be a string of at most 512 characters")
    parts = name.split("/")
    if not _FIRST_SEGMENT.match(parts[0]) or not all(_SEGMENT.match(p) for p in parts):
        raise ValueError(f"bad object name {name!r}")
    return name


def _check_prefix(prefix: str) -> str:
    if prefix:
        check_name(prefix.rstrip("/") or "x")
    return prefix


def _blob_name(sha256: str, ext: str) -> str:
    key = _check_key(sha256)
    return f"{key[:2]}/{key[2:4]}/{key}.{_check_ext(ext)}"


def _content_type(name: str) -> str:
    return _CONTENT_TYPES.get(name.rsplit(".", 1)[-1].lower(), "application/octet-stream")


class Storage:
    """The interface both backends implement (see the module docstring)."""

    # content-addressed blobs
    def put(self, data: bytes, ext: str = "jpg") -> str:
        raise NotImplementedError

    def get(self, sha256: str, ext: str = "jpg") -> bytes:
        raise NotImplementedError

    def open(self, sha256: str, ext: str = "jpg") -> IO[bytes]:
        raise NotImplementedError

    def exists(self, sha256: str, ext: str = "jpg") -> bool:
        raise NotImplementedError

    def path(self, sha256: str, ext: str = "jpg") -> Path:
        raise ValueError(f"{type(self).__name__} objects have no local path")

    # named objects
    def put_object(self, name: str, data: Data, *, create_only: bool = False) -> None:
        raise NotImplementedError

    def get_object(self, name: str) -> bytes:
        with self.open_object(name) as fh:
            return fh.read()

    def open_object(self, name: str) -> IO[bytes]:
        raise NotImplementedError

    def object_exists(self, name: str) -> bool:
        raise NotImplementedError

    def delete_object(self, name: str) -> None:
        raise NotImplementedError

    def list_objects(self, prefix: str = "") -> list[str]:
        raise NotImplementedError

    @contextlib.contextmanager
    def local_copy(self, name: str) -> Iterator[Path]:
        """A file on this machine holding the object (a temporary copy where needed, removed afterwards)."""
        suffix = os.path.splitext(check_name(name))[1]
        with self.open_object(name) as src:
            fd, tmp = tempfile.mkstemp(prefix="suijian-", suffix=suffix)
            try:
                with os.fdopen(fd, "wb") as dst:
                    shutil.copyfileobj(src, dst, _CHUNK)
                yield Path(tmp)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)


class LocalStorage(Storage):
    """Files under one folder; blobs sharded by the first two bytes of the hash: ``ab/cd/abcd….jpg``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def path(self, sha256: str, ext: str = "jpg") -> Path:
        return self.root / _blob_name(sha256, ext)

    def _named(self, name: str) -> Path:
        return self.root / check_name(name)

    def _write(self, target: Path, data: Data, *, create_only: bool) -> None:
        """Write to a temporary file beside ``target``, fsync, then move it into place atomically."""
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
        try:
            with os.fdopen(fd, "wb") as fh:
                if isinstance(data, bytes | bytearray | memoryview):
                    fh.write(data)
                else:
                    shutil.copyfileobj(data, fh, _CHUNK)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
            if create_only:
                os.link(tmp, target)  # atomic, and fails with FileExistsError if the name is taken
                os.unlink(tmp)
            else:
                os.replace(tmp, target)  # atomic; a concurrent writer of the same blob writes the same bytes
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def put(self, data: bytes, ext: str = "jpg") -> str:
        sha = hashlib.sha256(data).hexdigest()
        target = self.path(sha, ext)
        if target.is_file() and target.stat().st_size == len(data):
            return sha  # same bytes already stored (the name is their hash)
        self._write(target, data, create_only=False)
        return sha

    def exists(self, sha256: str, ext: str = "jpg") -> bool:
        return self.path(sha256, ext).is_file()

    def open(self, sha256: str, ext: str = "jpg") -> IO[bytes]:
        """A binary file object; ``FileNotFoundError`` if nothing is stored under that key."""
        return self.path(sha256, ext).open("rb")

    def get(self, sha256: str, ext: str = "jpg") -> bytes:
        return self.path(sha256, ext).read_bytes()

    def put_object(self, name: str, data: Data, *, create_only: bool = False) -> None:
        self._write(self._named(name), data, create_only=create_only)

    def open_object(self, name: str) -> IO[bytes]:
        return self._named(name).open("rb")

    def object_exists(self, name: str) -> bool:
        return self._named(name).is_file()

    def delete_object(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._named(name).unlink()

    def list_objects(self, prefix: str = "") -> list[str]:
        _check_prefix(prefix)
        folder = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        base = self.root / folder if folder else self.root
        if not base.is_dir():
            return []
        out = []
        for path in base.rglob("*"):
            if path.is_file() and not path.name.startswith("."):
                name = path.relative_to(self.root).as_posix()
                if name.startswith(prefix) and not _is_blob(name):
                    out.append(name)
        return sorted(out)

    @contextlib.contextmanager
    def local_copy(self, name: str) -> Iterator[Path]:
        path = self._named(name)
        if not path.is_file():
            raise FileNotFoundError(name)
        yield path


def _is_blob(name: str) -> bool:
    parts = name.split("/")
    return len(parts) == 3 and len(parts[0]) == 2 and len(parts[1]) == 2


class S3Storage(Storage):
    """Objects in one bucket under ``prefix`` (``s3://bucket/prefix``) through boto3.

    The client is made lazily, once per process (a forked app server makes its own).
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        addressing_style: str | None = None,
    ) -> None:
        if not bucket:
            raise ValueError("an s3:// STORAGE_URL needs a bucket: s3://bucket/prefix")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.endpoint_url = endpoint_url
        self.region = region
        self.addressing_style = addressing_style or ("path" if endpoint_url else None)
        self._client: Any = None
        self._client_pid = 0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"S3Storage({self.bucket!r}, {self.prefix!r}, endpoint_url={self.endpoint_url!r})"

    @property
    def client(self) -> Any:
        if self._client is None or self._client_pid != os.getpid():
            with self._lock:
                if self._client is None or self._client_pid != os.getpid():
                    import boto3  # type: ignore[import-untyped]  # boto3 ships no type hints
                    from botocore.config import Config  # type: ignore[import-untyped]

                    config = Config(
                        retries={"max_attempts": 5, "mode": "standard"},
                        s3={"addressing_style": self.addressing_style} if self.addressing_style else None,
                    )
                    self._client = boto3.session.Session().client(
                        "s3", endpoint_url=self.endpoint_url, region_name=self.region, config=config
                    )
                    self._client_pid = os.getpid()
        return self._client

    def _key(self, name: str) -> str:
        return self.prefix + name

    @staticmethod
    def _missing(exc: Exception) -> bool:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        return code in ("404", "NoSuchKey", "NotFound")

    def _upload(self, name: str, data: Data, *, create_only: bool = False) -> None:
        from botocore.exceptions import ClientError  # type: ignore[import-untyped]

        extra: dict[str, Any] = {"ContentType": _content_type(name)}
        if create_only:
            if self._exists(name):  # fast refusal; If-None-Match below closes the race
                raise FileExistsError(name)
            extra["IfNoneMatch"] = "*"
        body = data if isinstance(data, bytes | bytearray | memoryview) else data.read()
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(name), Body=bytes(body), **extra)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if create_only and code in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                raise FileExistsError(name) from exc
            raise

    def _exists(self, name: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(name))
        except ClientError as exc:
            if self._missing(exc):
                return False
            raise
        return True

    def _open(self, name: str) -> IO[bytes]:
        """The object copied into a seekable temporary file (kept in memory up to 8 MiB)."""
        from botocore.exceptions import ClientError

        out = tempfile.SpooledTemporaryFile(max_size=8 * _CHUNK)  # noqa: SIM115 - returned to the caller
        try:
            resp = self.client.get_object(Bucket=self.bucket, Key=self._key(name))
        except ClientError as exc:
            out.close()
            if self._missing(exc):
                raise FileNotFoundError(name) from exc
            raise
        with contextlib.closing(resp["Body"]) as body:
            for chunk in body.iter_chunks(_CHUNK):
                out.write(chunk)
        out.seek(0)
        return out

    def put(self, data: bytes, ext: str = "jpg") -> str:
        sha = hashlib.sha256(data).hexdigest()
        self._upload(_blob_name(sha, ext), data)  # a PUT is atomic; the same bytes again change nothing
        return sha

    def get(self, sha256: str, ext: str = "jpg") -> bytes:
        with self._open(_blob_name(sha256, ext)) as fh:
            return fh.read()

    def open(self, sha256: str, ext: str = "jpg") -> IO[bytes]:
        return self._open(_blob_name(sha256, ext))

    def exists(self, sha256: str, ext: str = "jpg") -> bool:
        return self._exists(_blob_name(sha256, ext))

    def put_object(self, name: str, data: Data, *, create_only: bool = False) -> None:
        if isinstance(data, bytes | bytearray | memoryview) or create_only:
            self._upload(check_name(name), data, create_only=create_only)
            return
        # a stream (an upload of up to MAX_CONTENT_LENGTH): multipart upload in chunks, never whole in memory
        self.client.upload_fileobj(
            data, self.bucket, self._key(check_name(name)), ExtraArgs={"ContentType": _content_type(name)}
        )

    def open_object(self, name: str) -> IO[bytes]:
        return self._open(check_name(name))

    def object_exists(self, name: str) -> bool:
        return self._exists(check_name(name))

    def delete_object(self, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(check_name(name)))

    def list_objects(self, prefix: str = "") -> list[str]:
        _check_prefix(prefix)
        out = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self._key(prefix)):
            for obj in page.get("Contents", []):
                name = obj["Key"][len(self.prefix) :]
                if not _is_blob(name):
                    out.append(name)
        return sorted(out)


def from_url(url: str, *, endpoint_url: str | None = None) -> Storage:
    """A store for ``STORAGE_URL``: ``file:///abs/path``, a plain folder path or ``s3://bucket/prefix``."""
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        path = unquote(parsed.path) if parsed.scheme == "file" else url
        if parsed.scheme == "file" and parsed.netloc not in ("", "localhost"):
            raise ValueError(f"file URL with a host is not supported: {url!r}")
        return LocalStorage(path)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise ValueError(f"an s3:// STORAGE_URL needs a bucket: s3://bucket/prefix, not {url!r}")
        return S3Storage(
            parsed.netloc,
            unquote(parsed.path),
            endpoint_url=endpoint_url or os.environ.get("S3_ENDPOINT_URL") or None,
            region=os.environ.get("S3_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None,
            addressing_style=os.environ.get("S3_ADDRESSING_STYLE") or None,
        )
    raise ValueError(f"unsupported STORAGE_URL scheme {parsed.scheme!r}")


_stores: dict[tuple[str, str], Storage] = {}
_lock = threading.Lock()


def current() -> Storage:
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
    cache_key = (url, os.environ.get("S3_ENDPOINT_URL", ""))
    with _lock:
        store = _stores.get(cache_key)
        if store is None:
            store = _stores[cache_key] = from_url(url)
    return store


# --- the configured store's verbs (``storage.put(...)`` etc.; ``open`` shadows the builtin here only)


def put(data: bytes, ext: str = "jpg") -> str:
    """Store ``data``; returns its SHA-256 (the key). Idempotent."""
    return current().put(data, ext)


def open(sha256: str, ext: str = "jpg") -> IO[bytes]:  # the store's verb (shadows the builtin here only)
    return current().open(sha256, ext)


def get(sha256: str, ext: str = "jpg") -> bytes:
    return current().get(sha256, ext)


def path(sha256: str, ext: str = "jpg") -> Path:
    """The blob's file on disk (local storage only; ``ValueError`` on S3)."""
    return current().path(sha256, ext)


def exists(sha256: str, ext: str = "jpg") -> bool:
    return current().exists(sha256, ext)


def put_object(name: str, data: Data, *, create_only: bool = False) -> None:
    current().put_object(name, data, create_only=create_only)


def get_object(name: str) -> bytes:
    return current().get_object(name)


def open_object(name: str) -> IO[bytes]:
    return current().open_object(name)


def object_exists(name: str) -> bool:
    return current().object_exists(name)


def delete_object(name: str) -> None:
    current().delete_object(name)


def list_objects(prefix: str = "") -> list[str]:
    return current().list_objects(prefix)


def local_copy(name: str) -> contextlib.AbstractContextManager[Path]:
    return current().local_copy(name)
