"""Helpers the browser tests call: log in through the form, layout checks at phone size, the test clock, and for
the offline scenarios (issue 10) the phone as a persistent profile, CDP network conditions, a live server that
can be stopped, restarted and made to fail, the device's outbox read from IndexedDB and the database's rows.

The fixtures (live server, contexts, screenshots) are in conftest.py.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import re
import shutil
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext
from playwright.sync_api import Error as PlaywrightError

from tests.helpers import DEMO_PASSWORD, suite_now

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "e2e"


def set_browser_clock(ctx: BrowserContext) -> BrowserContext:
    """Under a test clock, the browser's clock starts at the server's (travelled) now and ticks on."""
    if suite_now() is not None:
        ctx.clock.install(time=dt.datetime.now(dt.UTC))
    return ctx


def login(page, base: str, username: str, password: str = DEMO_PASSWORD) -> None:
    """Log in through the form and wait for the page after the redirect."""
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/login" not in page.url, f"login as {username} failed"


def assert_no_horizontal_overflow(page) -> None:
    """Nothing sticks out sideways at phone width (no sideways scrolling)."""
    width, inner = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"page is {width}px wide in a {inner}px viewport: {page.url}"


# Controls a thumb has to hit: buttons, fields, menus, button-like links, list rows, breadcrumbs.
_TAP_TARGETS = (
    "button, select, summary, textarea, input:not([type=hidden]):not([type=checkbox]):not([type=radio]), "
    "a.btn, .list a, .crumbs a, .topbar a, .chip a, dl.facts a"
)


def assert_touch_targets(page, minimum: int = 44) -> None:
    """Every visible control is at least ``minimum`` CSS pixels tall (and wide)."""
    small = page.evaluate(
        """([selector, minimum]) => [...document.querySelectorAll(selector)]
            .filter(e => { const r = e.getBoundingClientRect(), m = minimum - 0.5;
                           return r.width > 0 && r.height > 0 && (r.height < m || r.width < m); })
            .map(e => { const r = e.getBoundingClientRect();
                        return `${e.tagName.toLowerCase()} "${(e.innerText || e.value || '').trim().slice(0, 16)}" `
                               + `${Math.round(r.width)}x${Math.round(r.height)}`; })""",
        [_TAP_TARGETS, minimum],
    )
    assert not small, f"touch targets under {minimum}px on {page.url}: {small}"


# ------------------------------------------------------------------------------------------ offline (issue 10)
# The phone as a persistent browser profile (closing and reopening it keeps the service worker, Cache Storage
# and IndexedDB), network conditions through CDP, a live server that can be stopped, restarted and made to
# fail on purpose, and what the database holds of one record.

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

# Slow 3G as issue 10 measured it: 400 ms latency, 400 kbit/s down, 20 KB/s up (bytes per second for CDP).
SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 400 * 1000 / 8, "uploadThroughput": 20 * 1024}
NO_THROTTLE = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}


def phone_device(playwright) -> dict:
    """iPhone 13 (390×844, touch, mobile) for ``launch_persistent_context``: without ``default_browser_type``."""
    device = {k: v for k, v in playwright.devices["iPhone 13"].items() if k != "default_browser_type"}
    return {**device, "locale": "zh-CN"}


class Radio:
    """The phone's network to the server: a TCP relay on its own port that can be cut (and cut mid-transfer).

    Playwright's offline flag covers pages but not always their service worker's own requests, so a phone
    "offline" could still load pages through its worker. Every request of the phone goes through the relay:
    when it is down, connections are reset at once, and going down resets those in flight (an upload breaks
    half-way). The relay's port stays the same when the server behind it restarts: the phone's origin too.
    """

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.up = True
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_up(self, up: bool) -> None:
        self.up = up
        if not up:
            self.cut()

    def cut(self) -> None:
        """Reset every connection in flight (the phone's radio lost the network this instant)."""
        with self._lock:
            conns, self._open = list(self._open), set()
        for conn in conns:
            self._reset(conn)

    def close(self) -> None:
        self._closed = True
        self.cut()
        self._listener.close()

    @staticmethod
    def _reset(conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):
            conn.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _addr = self._listener.accept()
            except OSError:
                return
            if not self.up:
                self._reset(client)
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
                upstream.settimeout(None)
            except OSError:  # the server is down: refused, as the phone would see it
                self._reset(client)
                continue
            with self._lock:
                self._open.update((client, upstream))
            done = [0]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst, client, upstream, done), daemon=True).start()

    def _pump(self, src, dst, client, upstream, done: list[int]) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)
        except OSError:  # reset by the other side or cut: the other direction ends too
            self._reset(dst)
        with self._lock:
            done[0] += 1
            last = done[0] == 2
            if last:
                self._open.discard(client)
                self._open.discard(upstream)
        if last:
            self._reset(client)
            self._reset(upstream)


class Phone:
    """One phone's browser: a persistent profile in ``user_data_dir`` that can be closed and opened again.

    ``open(offline=True)`` starts the browser with no network at all (as after a night in a basement);
    ``page`` is the profile's first tab. Geolocation is granted at a fixed position on the server's origin.
    With a :class:`Radio`, ``base`` is the relay's address and going offline cuts the relay too.
    """

    def __init__(self, playwright, user_data_dir: str, base: str, name: str = "phone", radio: Radio | None = None):
        self.playwright, self.user_data_dir, self.name, self.radio = playwright, user_data_dir, name, radio
        self.base = radio.base if radio else base
        self.context: BrowserContext | None = None
        self.page = None

    def open(self, offline: bool = False):
        assert self.context is None, "already open"
        if self.radio:
            self.radio.set_up(not offline)
        device = phone_device(self.playwright)
        ctx = self.playwright.chromium.launch_persistent_context(
            self.user_data_dir,
            executable_path=CHROMIUM,
            # the service worker's own requests (the pack) carry the browser's user agent, not Playwright's
            # per-page override: without the flag the phone's UA changes between page and worker, and the
            # "strong" session protection (webapp/__init__.py) ends the session
            args=[*CHROMIUM_ARGS, f"--user-agent={device['user_agent']}"],
            offline=offline,
            service_workers="allow",
            **device,
        )
        ctx.grant_permissions(["geolocation"], origin=self.base)
        ctx.set_geolocation({"latitude": 34.7272, "longitude": 112.7878, "accuracy": 15})
        self.context = set_browser_clock(ctx)
        self.page = ctx.pages[0] if ctx.pages else ctx.new_page()
        self.page.on("dialog", lambda d: d.accept())  # 提交后记录不能再修改，确定提交？
        return self.page

    def close(self) -> None:
        if self.context is not None:
            self.context.close()
        self.context = self.page = None

    def reopen(self, offline: bool = False):
        self.close()
        return self.open(offline=offline)

    def set_offline(self, offline: bool) -> None:
        if self.radio:
            self.radio.set_up(not offline)
        self.context.set_offline(offline)

    def throttle(self, conditions: dict = SLOW_3G):
        """Network conditions on the page through CDP (Network.emulateNetworkConditions); returns the session."""
        cdp = self.context.new_cdp_session(self.page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", conditions)
        return cdp


def online_in_page(page, url: str = "/offline/session") -> bool:
    """Can the page reach the server? (``page.request`` ignores the offline flag; ``fetch`` does not.)"""
    return page.evaluate(
        "u => fetch(u, {cache: 'no-store'}).then(r => r.ok, () => false)",
        url,
    )


def cached_urls(page) -> list[str]:
    """Every URL in the page origin's Cache Storage (all caches)."""
    return page.evaluate(
        """async () => { const out = [];
            for (const name of await caches.keys()) {
              for (const req of await (await caches.open(name)).keys()) out.push(req.url); }
            return out; }"""
    )


def wait_cached(page, paths: list[str], timeout: float = 30) -> None:
    """Wait until every path (e.g. "/me", "/inspections/tasks/<pid>") is in Cache Storage: the pack is kept."""
    deadline = time.monotonic() + timeout
    missing = paths
    while time.monotonic() < deadline:
        have = {urlsplit(u).path for u in cached_urls(page)}
        missing = [p for p in paths if p not in have]
        if not missing:
            return
        page.wait_for_timeout(300)
    raise AssertionError(f"not cached after {timeout}s: {missing}")


# IndexedDB read generically (the outbox's database and store names are the client's business): every record of
# every store of every database of the origin, blobs replaced by {blob: size, sha256} computed in the page.
_IDB_DUMP = """async () => {
  const hex = b => [...new Uint8Array(b)].map(x => x.toString(16).padStart(2, '0')).join('');
  const plain = async v => {
    if (v instanceof Blob) return {blob: v.size, type: v.type,
                                   sha256: hex(await crypto.subtle.digest('SHA-256', await v.arrayBuffer()))};
    if (v instanceof ArrayBuffer) return {bytes: v.byteLength};
    if (Array.isArray(v)) return Promise.all(v.map(plain));
    if (v && typeof v === 'object' && !(v instanceof Date)) {
      const o = {}; for (const [k, x] of Object.entries(v)) o[k] = await plain(x); return o; }
    return v instanceof Date ? v.toISOString() : v;
  };
  const out = {};
  for (const info of (await indexedDB.databases())) {
    const db = await new Promise((ok, ko) => { const r = indexedDB.open(info.name);
                                              r.onsuccess = () => ok(r.result); r.onerror = () => ko(r.error); });
    for (const store of db.objectStoreNames) {
      const rows = await new Promise((ok, ko) => { const r = db.transaction(store).objectStore(store).getAll();
                                                  r.onsuccess = () => ok(r.result); r.onerror = () => ko(r.error); });
      out[info.name + '/' + store] = await plain(rows);
    }
    db.close();
  }
  return out;
}"""


def indexeddb(page) -> dict[str, list]:
    """The dump, read again when the page navigated meanwhile (a sync may move on to the record page)."""
    for _ in range(20):
        try:
            return page.evaluate(_IDB_DUMP)
        except PlaywrightError as exc:
            if "destroyed" not in str(exc) and "navigat" not in str(exc):
                raise
            page.wait_for_load_state()
    return page.evaluate(_IDB_DUMP)


def outbox(page) -> list[dict]:
    """The outbox entries (records with ``url``, ``state`` and ``fields``, contract §5), oldest first."""
    entries = [
        row
        for rows in indexeddb(page).values()
        for row in rows
        if isinstance(row, dict) and "url" in row and "state" in row and "fields" in row
    ]
    return sorted(entries, key=lambda e: str(e.get("created_at")))


def pending(page) -> list[dict]:
    return [e for e in outbox(page) if e.get("state") in ("queued", "sending")]


def tap_sync_now(page) -> bool:
    """Tap 立即同步 if the banner shows it (it hides when nothing is left: a tap that misses is fine)."""
    button = page.locator("[data-sync-now]:visible").first
    try:
        if button.count():
            button.click(timeout=1500)
            return True
    except PlaywrightError:
        pass
    return False


def wait_synced(page, timeout: float = 60, press_button: bool = True) -> list[dict]:
    """Wait until no outbox entry is queued or sending (tapping 立即同步 now and then); returns the outbox."""
    deadline = time.monotonic() + timeout
    last_press = time.monotonic()
    while time.monotonic() < deadline:
        entries = outbox(page)
        if not [e for e in entries if e.get("state") in ("queued", "sending")]:
            return entries
        if press_button and time.monotonic() - last_press > 4:
            tap_sync_now(page)
            last_press = time.monotonic()
        page.wait_for_timeout(300)
    raise AssertionError(
        f"still unsent after {timeout}s: "
        + str([(e.get("key"), e.get("state"), e.get("error"), e.get("attempts")) for e in outbox(page)])
    )


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def jpeg(color: tuple[int, int, int], size: tuple[int, int] = (1200, 900)) -> bytes:
    """A camera-like JPEG small enough that the phone sends it as it is (long side under 1600 px)."""
    from PIL import Image, ImageDraw

    im = Image.new("RGB", size, color)
    draw = ImageDraw.Draw(im)
    for i in range(0, size[0], 40):  # some structure so the file has a realistic size
        draw.line([(i, 0), (size[0] - i, size[1])], fill=(255 - color[0], i % 255, color[2]), width=3)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=85)
    return buf.getvalue()


# ------------------------------------------------------------------------- the live server and its faults


@dataclass
class Fault:
    """What the server does to the next ``times`` requests matching ``method`` and ``path`` (a regex).

    ``cut``: read half the body, then drop the connection (the upload breaks; nothing is applied).
    ``drop``: apply the request, then drop the connection before the answer (applied, the phone never hears).
    ``status``: answer ``status`` without applying (e.g. 503 while the server is overloaded).
    ``hold``: wait until ``release`` is set, then apply.
    """

    method: str
    path: str
    action: str
    times: int = 1
    status: int = 503
    release: threading.Event = field(default_factory=threading.Event)
    hits: int = 0


@dataclass
class Hit:
    method: str
    path: str
    status: int | None
    client_id: str | None
    sync: str | None  # the X-Sync answer header ("replay")
    fault: str | None


class LiveServer:
    """The app on 127.0.0.1:<port> in a thread, stoppable and restartable on the same port and database.

    ``faults`` are injected by a WSGI middleware; ``hits`` logs every request (method, path, status, the
    ``X-Client-Id`` it carried, the ``X-Sync`` answer). ``sw_suffix`` is appended to /sw.js as served, so a test
    can deploy a new service worker without touching static/.
    """

    def __init__(self, app, port: int = 0):
        self.app, self.port = app, port
        self.faults: list[Fault] = []
        self.hits: list[Hit] = []
        self.sw_suffix = b""
        self._server = None
        self._lock = threading.Lock()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> LiveServer:
        from werkzeug.serving import make_server

        assert self._server is None
        self._server = make_server("127.0.0.1", self.port, self._wsgi, threaded=True)
        self.port = self._server.server_port
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening (connections are refused, as when the process is gone)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def restart(self, down_for: float = 1.0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()

    def fault(self, method: str, path: str, action: str, **kw) -> Fault:
        f = Fault(method.upper(), path, action, **kw)
        with self._lock:
            self.faults.append(f)
        return f

    def posts(self, pattern: str = "") -> list[Hit]:
        return [h for h in self.hits if h.method == "POST" and re.search(pattern, h.path)]

    def applied(self, pattern: str = "") -> Counter:
        """How often each client id's change was applied (answered < 300 and not as a replay): 1 each, never 2."""
        return Counter(
            h.client_id
            for h in self.posts(pattern)
            if h.client_id and h.status is not None and h.status < 300 and h.sync != "replay"
        )

    def wait_hits(self, pattern: str, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.posts(pattern)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.posts(pattern))} POSTs to {pattern} after {timeout}s, wanted {count}")
            time.sleep(0.1)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for f in self.faults:
                if f.times > 0 and f.method == method and re.search(f.path, path):
                    f.times -= 1
                    f.hits += 1
                    return f
        return None

    def _wsgi(self, environ, start_response):
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        fault = self._take_fault(method, path)
        hit = Hit(method, path, None, environ.get("HTTP_X_CLIENT_ID"), None, fault.action if fault else None)
        self.hits.append(hit)
        if fault and fault.action == "status":
            hit.status = fault.status
            start_response(f"{fault.status} Fault", [("Content-Type", "text/plain"), ("Retry-After", "1")])
            return [b"injected fault"]
        if fault and fault.action == "cut":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            environ["wsgi.input"].read(max(1, length // 2))
            self._drop(environ)
        if fault and fault.action == "hold":
            fault.release.wait(60)
        if path == "/sw.js" and self.sw_suffix:  # a new deploy: no 304 for the old worker's validators
            environ.pop("HTTP_IF_NONE_MATCH", None)
            environ.pop("HTTP_IF_MODIFIED_SINCE", None)
        captured: dict = {}

        def _start(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda _data: None

        result = self.app(environ, _start)  # the view runs (and commits) here
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        status, headers = captured["status"], captured["headers"]
        hit.status = int(status.split()[0])
        hit.sync = next((v for k, v in headers if k.lower() == "x-sync"), None)
        if fault and fault.action == "drop":
            self._drop(environ)
        if path == "/sw.js" and self.sw_suffix and hit.status == 200:
            body += self.sw_suffix
            headers = [(k, v) for k, v in headers if k.lower() not in ("content-length", "etag", "last-modified")]
            headers.append(("Content-Length", str(len(body))))
        start_response(status, headers)
        return [body]

    @staticmethod
    def _drop(environ) -> None:
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        raise ConnectionResetError("connection dropped on purpose (test fault)")


# ----------------------------------------------------------------------------------- what the database holds


def record_rows(app, task_public_id: str) -> dict:
    """Everything stored of a task's records, for comparing with the screen: one dict per table, plain values."""
    from sqlalchemy import select

    from webapp.audit import AuditEvent
    from webapp.extensions import db
    from webapp.inspections.models import Inspection
    from webapp.inspections.record import record_hash
    from webapp.tasks.models import Task

    with app.app_context():
        try:
            task = db.session.execute(select(Task).where(Task.public_id == task_public_id)).scalar_one()
            records = list(
                db.session.execute(select(Inspection).where(Inspection.task_id == task.id).order_by(Inspection.id))
                .scalars()
                .all()
            )
            out: dict = {"records": [], "task_status": task.status.value}
            for insp in records:
                events = (
                    db.session.execute(
                        select(AuditEvent)
                        .where(AuditEvent.subject_type == "inspection", AuditEvent.subject_id == str(insp.id))
                        .order_by(AuditEvent.id)
                    )
                    .scalars()
                    .all()
                )
                out["records"].append(
                    {
                        "status": insp.status.value,
                        "checkin_at": insp.checkin_at,
                        "checkin_offline": getattr(insp, "checkin_offline", None),
                        "checkin_received_at": getattr(insp, "checkin_received_at", None),
                        "partner_presence": insp.partner_presence.value if insp.partner_presence else None,
                        "answers": {
                            a.point_id: (a.answer.value if a.answer else None, a.note or "") for a in insp.answers
                        },
                        "findings": [
                            {
                                "text": f.text,
                                "legal_basis": f.legal_basis,
                                "client_uuid": getattr(f, "client_uuid", None),
                                "photos": sorted(p.original_sha256 or p.sha256 for p in f.photos),
                            }
                            for f in insp.findings
                        ],
                        "photos": [(p.client_uuid, p.original_sha256, p.sha256) for p in insp.photos],
                        "signatures": [
                            {
                                "role": s.role.value,
                                "signer": s.signer_name,
                                "record_hash": s.record_hash,
                                "proxy_reason": s.proxy_reason,
                                "client_uuid": getattr(s, "client_uuid", None),
                            }
                            for s in insp.signatures
                        ],
                        "result": insp.result.value if insp.result else None,
                        "category": insp.category.value if insp.category else None,
                        "remarks": insp.remarks or "",
                        "content_hash": insp.content_hash,
                        "record_hash": record_hash(insp),
                        "events": [e.action for e in events],
                    }
                )
            return out
        finally:
            db.session.remove()


def ledger_count(app, user_id: int | None = None) -> int | None:
    """Rows of the sync ledger (the device's receipts), or None while the table does not exist."""
    from sqlalchemy import inspect, text

    from webapp.extensions import db

    with app.app_context():
        try:
            if "sync_ledger" not in inspect(db.engine).get_table_names():
                return None
            sql = "SELECT count(*) FROM sync_ledger" + (" WHERE user_id = :u" if user_id else "")
            return db.session.execute(text(sql), {"u": user_id}).scalar_one()
        finally:
            db.session.remove()


def sign_on_pad(page) -> None:
    """Draw a signature-sized zigzag on the record page's signature pad, as a finger would."""
    canvas = page.locator("#sign-form canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x0, y0 = box["x"] + 30, box["y"] + 60
    page.mouse.move(x0, y0)
    page.mouse.down()
    for i in range(40):
        page.mouse.move(x0 + i * 6, y0 + (i % 5) * 18, steps=2)
    page.mouse.up()
