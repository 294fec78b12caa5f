"""The job queue (huey): background work runs in a worker process (``flask worker``), never in a web worker.

One :data:`huey` instance per process, configured by :func:`init_app` from ``QUEUE_URL``:

- empty (the embedded default): a SQLite file under the instance folder (``instance/queue.db``), so ``make run``
  needs nothing else; ``sqlite:////path/queue.db`` names another file (one shared by web and worker processes);
- ``redis://host:6379/1`` (or ``rediss://``): Redis, for several app servers and workers;
- ``QUEUE_IMMEDIATE`` (on in tests): a task runs at once where it is enqueued, in memory.

Tasks are defined in :mod:`webapp.worker` (an assembly module) with :func:`task` / :func:`periodic` under a name;
code below it enqueues by that name (:func:`enqueue`), so no package imports the worker. Each task runs in an app
context with the locale of the request that enqueued it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

from flask import Flask, current_app, has_app_context
from flask_babel import force_locale, get_locale
from huey import Huey, crontab
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

log = logging.getLogger(__name__)

NAME = "suijian"

huey = Huey(NAME, immediate=True, results=False)  # storage and mode set by init_app
_tasks: dict[str, Any] = {}
_app: Flask | None = None

__all__ = ["crontab", "enqueue", "huey", "init_app", "periodic", "task"]


def storage_for(url: str, instance_path: str) -> Any:
    """The huey storage named by ``QUEUE_URL`` (see the module docstring)."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisStorage(NAME, url=url)
    if url.startswith("sqlite:///"):
        return SqliteStorage(NAME, filename=url[len("sqlite:///") :])
    if url.startswith("memory://"):
        return MemoryStorage(NAME)
    if url:
        raise RuntimeError(f"QUEUE_URL: expected redis://… or sqlite:///…, got {url!r}")
    os.makedirs(instance_path, exist_ok=True)
    return SqliteStorage(NAME, filename=os.path.join(instance_path, "queue.db"))


def init_app(app: Flask) -> None:
    """Point the process's huey at the app's queue (the last app created in a process wins)."""
    global _app
    _app = app
    immediate = bool(app.config.get("QUEUE_IMMEDIATE"))
    huey._immediate = immediate  # the property's setter would rebuild the storage from class defaults
    huey.storage = MemoryStorage(NAME) if immediate else storage_for(app.config["QUEUE_URL"], app.instance_path)
    app.extensions["huey"] = huey


def _in_app(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` run in the app's context (reused when already inside it: immediate mode) and the given locale."""

    def run(*args: Any, locale: str | None = None, **kwargs: Any) -> Any:
        if _app is None:
            raise RuntimeError("webapp.queue.init_app was not called (create_app does)")
        # Called inside an app (immediate mode, call_local): run there; on a worker thread: in the worker's app.
        context = nullcontext() if has_app_context() else _app.app_context()
        with context, force_locale(locale or _app.config["BABEL_DEFAULT_LOCALE"]):
            return fn(*args, **kwargs)

    run.__name__ = fn.__name__
    run.__doc__ = fn.__doc__
    return run


def task(name: str, **options: Any) -> Callable[[Callable[..., Any]], Any]:
    """Define the task ``name`` (``@queue.task("imports.run")``); ``enqueue(name, …)`` runs it on a worker."""

    def decorate(fn: Callable[..., Any]) -> Any:
        wrapped = huey.task(name=name, **options)(_in_app(fn))
        _tasks[name] = wrapped
        return wrapped

    return decorate


def periodic(name: str, when: Callable[..., bool], **options: Any) -> Callable[[Callable[..., Any]], Any]:
    """Define a periodic task (``when``: a huey ``crontab``, in the worker's local time — see ``utc`` below)."""

    def decorate(fn: Callable[..., Any]) -> Any:
        wrapped = huey.periodic_task(when, name=name, **options)(_in_app(fn))
        _tasks[name] = wrapped
        return wrapped

    return decorate


def enqueue(name: str, *args: Any) -> None:
    """Run the task ``name`` on a worker (at once in immediate mode), in the current request's locale."""
    locale = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
    if current_app.config.get("QUEUE_IMMEDIATE"):  # this app's setting, whatever other apps the process holds
        _tasks[name].call_local(*args, locale=locale)
    else:
        _tasks[name](*args, locale=locale)
