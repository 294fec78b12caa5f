"""The /2 draw end to end (issue 11, "Done means"): a supervisor on a phone commits next month's draw (the
confirmation page, a written reason when early), a witness, the draw, a 递补 with a reason, publication; an
outsider at a desk archives the public register before publication (heads and commitments, no event data, no
secret anywhere), then downloads the bundle and verify.py and runs them alone in an empty folder: PASS with
"递补 pending closing: 1" and the head the register showed. The daily job closes the draw; the bundle then
verifies with the 递补 recomputed, and an edited or removed replacement fails.

The draw is closed by the daily job's function (``close_due``), which needs the app: this module runs its own
live server over a fresh SQLite database with the demo (the shared ``live_server`` hides its app), so the
month it draws is its own whatever other browser tests commit.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import ARTIFACTS, assert_no_horizontal_overflow, assert_touch_targets, login
from webapp import calendar
from webapp.draw import queries
from webapp.public import views as public_views

ITEM_NAME = "对单位履行消防安全职责情况的日常监督抽查"
VERIFY_PY = public_views.VERIFY_PY  # the standalone verifier exactly as the public site serves it
WITNESS = ("王立新", "廉政监督员", "6 2 8 3 1 8 5 3 0 7 1 7 9 5 8 6")
EARLY = "浏览器测试：提前冻结下月名录"
REPLACE_REASON = "浏览器测试：原协办人员参加省总队培训"
HEX64 = re.compile(r"^[0-9a-f]{64}$")
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}


@pytest.fixture(scope="module")
def server():
    """The app with the demo (300 units) on 127.0.0.1 in a thread; ``.base`` its URL, ``.app`` the app."""
    from werkzeug.serving import make_server

    from tests.helpers import reset_schema
    from webapp import create_app
    from webapp.demo import load_demo
    from webapp.extensions import db

    tmp = tempfile.mkdtemp(prefix="suijian-e2e-draw2-")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": "sqlite:///" + os.path.join(tmp, "e2e.db"),
            "RATELIMIT_ENABLED": False,
            "STORAGE_URL": "file://" + os.path.join(tmp, "storage"),
            "QUEUE_IMMEDIATE": True,
        }
    )
    reset_schema(app)
    with app.app_context():
        load_demo(units=300, seed=7)  # confirms next month's year when the holiday library does not know it
        db.session.commit()
        db.session.remove()
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield SimpleNamespace(base=f"http://127.0.0.1:{httpd.server_port}", app=app)
    httpd.shutdown()
    httpd.server_close()
    with app.app_context():
        db.engine.dispose()
    shutil.rmtree(tmp, ignore_errors=True)


# ------------------------------------------------------------------------------------------------ helpers


def hash_text(locator) -> str:
    """A hash shown in groups of 8 (spans) read back as one hex string."""
    return re.sub(r"\s", "", locator.inner_text())


def shot(page: Page, name: str, width: int | None = None) -> Path:
    """A full-page screenshot under artifacts/e2e/ (CSS pixels), at ``width`` if given (then back)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    size = page.viewport_size
    if width and size:
        page.set_viewport_size({"width": width, "height": size["height"]})
        assert_no_horizontal_overflow(page)
    page.screenshot(path=str(path), full_page=True, scale="css")
    if width and size:
        page.set_viewport_size(size)
    return path


def check_layout(page: Page, touch: bool = True) -> None:
    assert_no_horizontal_overflow(page)
    if touch:
        assert_touch_targets(page)


def ceremony_head(page: Page) -> str:
    """The log head the ceremony shows after the last step (big enough to photograph)."""
    head = hash_text(page.locator("#log-head .head-big"))
    assert HEX64.match(head), head
    return head


def register_row(page: Page, base: str, draw_id: str):
    """The draw's row on the public register: {"pool_hash", "commitment", "replacement_commitment", "events"}.

    ``events`` are (n, type, head, {key: shown value}) per logged step, as an outsider would archive them.
    """
    page.goto(base + "/public/register")
    # The public site lets browsers keep a page for five minutes (Cache-Control: public, max-age=300): an
    # archivist reloads, which revalidates (ETag) and gets the page with the latest head.
    page.reload()
    row = page.locator(f"#d-{draw_id}")
    expect(row).to_be_visible()
    hashes = row.locator(":scope > .hashes .hash")
    events = []
    for li in row.locator("ol.register-log > li").all():
        title = li.locator(".title").inner_text()
        n = int(re.match(r"\s*(\d+)\.", title).group(1))
        etype = li.locator(".title small.code").inner_text().strip()
        head = hash_text(li.locator(".hashes .hash").first)
        data = {}
        for p in li.locator(".register-data").all():
            data[p.locator(".hl").inner_text().strip()] = p.locator("small.code").inner_text().strip()
        events.append((n, etype, head, data))
    return {
        "pool_hash": hash_text(hashes.nth(0)),
        "commitment": hash_text(hashes.nth(1)),
        "replacement_commitment": hash_text(hashes.nth(2)),
        "events": events,
        "text": row.inner_text(),
    }


def canonical(x) -> bytes:
    return json.dumps(x, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def chain_heads(bundle: dict) -> list[str]:
    """head_1 … head_n of the bundle's log, recomputed from the spec's text (DRAW_SPEC section 1)."""
    head = hashlib.sha256(canonical({"spec": bundle["spec"], "draw": bundle["draw"]["id"]})).hexdigest()
    heads = []
    for event in bundle["log"]:
        head = hashlib.sha256(canonical({"prev": head, "event": event})).hexdigest()
        heads.append(head)
    return heads


def verify_alone(folder: Path, bundle_text: str, verifier: Path = VERIFY_PY) -> subprocess.CompletedProcess:
    """``python3 verify.py bundle.json`` in an otherwise empty folder, with nothing of the project importable."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    shutil.copy(verifier, folder / "verify.py")
    (folder / "bundle.json").write_text(bundle_text, encoding="utf-8")
    assert sorted(p.name for p in folder.iterdir()) == ["bundle.json", "verify.py"]
    return subprocess.run(
        [sys.executable, "-I", "verify.py", "bundle.json"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": os.environ.get("PATH", "")},
    )


def printed(run: subprocess.CompletedProcess, key: str) -> str:
    m = re.search(rf"^{re.escape(key)}: (.*)$", run.stdout, re.M)
    assert m, f"verify.py did not print {key!r}: {run.stdout}"
    return m.group(1).strip()


def download(page: Page, link, to: Path) -> str:
    with page.expect_download() as dl:
        link.click()
    dl.value.save_as(to)
    return to.read_text(encoding="utf-8")


# -------------------------------------------------------------------------------------------------- test


def test_v2_draw_with_a_replacement_verifies_alone_after_publication_and_after_closing(
    new_context, browser_context_args, server, tmp_path
):
    base = server.base
    # The supervisor's phone (iPhone 13) opened explicitly: pytest-playwright's ``page`` comes from its ``context``,
    # which calls the ``new_context`` fixture conftest.py overrides, so it would open at the default 1280×720.
    # The ceremony is an online step: the phone runs it without the offline service worker (issue 10's tests
    # cover that worker).
    page = new_context(**browser_context_args, service_workers="block").new_page()
    assert page.viewport_size == {"width": 390, "height": 664}, page.viewport_size
    today = calendar.today()
    year, month = queries.next_month(today)
    period = queries.period_of(year, month)
    month_label = f"{year}年{month}月"
    page.on("dialog", lambda d: d.accept())  # hx-confirm on draw, publish: the supervisor agrees
    outsider = new_context(**DESKTOP).new_page()  # a citizen at a desk, no login
    before_publication: dict[str, str] = {}  # every text shown or downloaded before publication
    before_closing: dict[str, str] = {}  # … and before closing

    # ---- 1. the supervisor (phone): next year's plan, next month's pool
    login(page, base, "supervisor")
    page.goto(base + "/draw/")
    plan_name = f"{year}年{ITEM_NAME}"
    existing = page.locator("ul.plans > li > a", has_text=plan_name)
    if existing.count():
        existing.first.click()
    else:
        page.get_by_role("link", name="新建年度抽查计划").click()
        page.select_option("#item", label=ITEM_NAME)
        page.select_option("#year", str(year))
        page.get_by_role("button", name="下一步").click()
        page.get_by_role("button", name="保存").click()
    expect(page.locator("h1")).to_have_text(plan_name)
    page.get_by_role("link", name=f"查看{month_label}的抽取名录并抽取").click()
    expect(page.locator("h1")).to_contain_text(f"抽取名录 · {month_label}")
    # the demo confirmed the year (if the holiday library does not know it): nothing keeps the month from committing
    expect(page.locator(".commit-box .calendar-gate")).to_have_count(0)

    # ---- 2. commit: a confirmation page, a written reason when early
    page.get_by_role("button", name="冻结名录并生成承诺值").click()
    confirm = page.locator("#confirm-commit")
    expect(confirm.locator("h1")).to_contain_text("确认冻结名录并生成承诺值")
    early = page.locator("#early_reason").count() > 0
    if early:
        confirm.get_by_role("button", name="确认冻结名录并生成承诺值").click()  # without the reason: refused
        expect(page.locator("#confirm-commit")).to_contain_text("提前抽取必须写明原因")
        page.fill("#early_reason", EARLY)
    check_layout(page)
    shot(page, "53-draw2-commit-confirm")
    page.locator("#confirm-commit").get_by_role("button", name="确认冻结名录并生成承诺值").click()
    expect(page.locator("#ceremony h1")).to_contain_text(month_label)
    draw_url = page.url.split("?")[0].split("#")[0]
    draw_id = draw_url.rstrip("/").rsplit("/", 1)[1]
    hashes = page.locator("#ceremony .hashes .hash")
    pool_hash, commitment, rcommitment = (hash_text(hashes.nth(i)) for i in range(3))
    assert all(HEX64.match(h) for h in (pool_hash, commitment, rcommitment))
    expect(page.locator("#step-banner")).to_contain_text("名录已冻结")
    start = page.get_by_role("button", name="开始抽取")
    expect(start).to_be_disabled()  # no witness value yet
    heads = [ceremony_head(page)]
    before_publication["ceremony committed"] = page.content()

    # ---- 3. the register right after the commitment: heads and commitments, commit data only
    reg = register_row(outsider, base, draw_id)
    assert (reg["pool_hash"], reg["commitment"], reg["replacement_commitment"]) == (pool_hash, commitment, rcommitment)
    assert [(n, t) for n, t, _, _ in reg["events"]] == [(1, "commit")]
    assert reg["events"][0][2] == heads[0], "the register shows the head the ceremony shows"
    commit_data = reg["events"][0][3]
    assert commit_data["pool_hash"] == pool_hash and commit_data["period"] == period, commit_data
    if early:
        assert EARLY in reg["text"], "an early commitment's reason is on the register"

    # ---- 4. a witness, then the draw (confirmed)
    page.fill("#witnesses #name", WITNESS[0])
    page.select_option("#witnesses #role", WITNESS[1])
    page.fill("#witnesses #value", WITNESS[2])
    page.get_by_role("button", name="记录见证人数值").click()
    expect(page.locator("ol.witness-list > li")).to_have_count(1)
    expect(page.locator("#step-banner")).to_contain_text("已有1位见证人")
    expect(page.locator("#step-banner")).not_to_contain_text("名录已冻结")
    heads.append(ceremony_head(page))
    page.get_by_role("button", name="开始抽取").click()
    rows = page.locator("#result li.result-row")
    expect(rows.first).to_be_visible()
    expect(page.locator("#step-banner")).to_contain_text("抽取完成")
    heads.append(ceremony_head(page))
    n_tasks = rows.count()
    assert n_tasks >= 1

    # ---- 5. a 递补 with a reason on the first task's assisting inspector
    row = rows.first
    task_id = row.get_attribute("id").removeprefix("t-")
    row.locator("details.r-replace > summary").click()
    slot = row.locator(f"#slot-{task_id}")
    held = [o for o in slot.locator("option").all() if "空缺" not in o.inner_text() and "协办" in o.inner_text()]
    assert held, slot.inner_html()
    out_label = held[0].inner_text()
    out_name = re.sub(r"^协办\s*", "", out_label).split("（")[0].strip()
    slot.select_option(held[0].get_attribute("value"))
    row.locator(f"#reason-{task_id}").fill(REPLACE_REASON)
    row.get_by_role("button", name="从同一名录递补抽取").click()
    repl = page.locator(f"#t-{task_id} .r-repl")
    expect(repl).to_contain_text("递补抽取（第1次）")
    expect(repl).to_contain_text(REPLACE_REASON)
    expect(repl.locator("del")).to_have_text(out_name)
    in_name = repl.inner_text().split("→", 1)[1].split("·", 1)[0].strip()
    assert in_name and in_name != out_name
    expect(page.locator(f"#t-{task_id} ul.r-people")).to_contain_text(in_name)
    expect(page.locator(f"#t-{task_id} ul.r-people")).not_to_contain_text(out_name)
    heads.append(ceremony_head(page))
    assert len(set(heads)) == 4, "every step moves the head"
    check_layout(page)
    shot(page, "54-draw2-ceremony-drawn", width=360)
    before_publication["ceremony drawn"] = page.content()
    before_publication["bundle drawn"] = download(
        page, page.locator("p.noprint a.btn", has_text="下载验证数据包"), tmp_path / "drawn.json"
    )
    early_bundle = json.loads(before_publication["bundle drawn"])
    assert early_bundle["draw"]["status"] == "drawn"
    assert all(early_bundle[k] is None for k in ("server_secret", "seed", "replacement_secret", "rseed"))
    assert verify_alone(tmp_path / "early", before_publication["bundle drawn"]).returncode == 1

    # ---- 6. the register before publication: four heads, data of the commit event only; the feed too
    reg = register_row(outsider, base, draw_id)
    assert [(n, t) for n, t, _, _ in reg["events"]] == [(1, "commit"), (2, "witness"), (3, "draw"), (4, "replace")]
    assert [h for _, _, h, _ in reg["events"]] == heads
    assert all(not data for n, _, _, data in reg["events"] if n > 1), "no event data before publication"
    register_text = outsider.content()
    assert WITNESS[2] not in register_text and REPLACE_REASON not in register_text
    assert outsider.locator(f"#d-{draw_id}").get_by_text("公布前，除冻结名录外的记录内容不公开").count() == 1
    outsider.set_viewport_size({"width": 360, "height": 900})
    outsider.locator(f"#d-{draw_id}").scroll_into_view_if_needed()
    check_layout(outsider, touch=False)
    shot(outsider, "55-draw2-register-before-publication", width=360)
    outsider.set_viewport_size(DESKTOP["viewport"])
    before_publication["register"] = register_text
    feed = outsider.request.get(base + "/public/register.atom")
    assert feed.ok
    before_publication["feed"] = feed.text()
    assert all(h in before_publication["feed"] for h in heads), "the Atom feed carries every head"
    assert outsider.goto(f"{base}/public/draws/{draw_id}").status == 404, "not public before publication"
    assert outsider.request.get(f"{base}/public/draws/{draw_id}/bundle.json").status == 404

    # ---- 7. publish (confirmed); the register then shows the publish head
    page.get_by_role("button", name="公布抽取结果").click()
    expect(page.locator("#ceremony .page-head .tag")).to_have_text("已公布")
    expect(page.locator("#step-banner")).to_contain_text("已公布")
    heads.append(ceremony_head(page))
    expect(page.locator("#close button")).to_be_disabled()  # the tasks are not done: only the daily job closes
    before_closing["ceremony published"] = page.content()
    reg = register_row(outsider, base, draw_id)
    assert [h for _, _, h, _ in reg["events"]] == heads, "the heads archived before publication are kept"
    assert reg["events"][-1][1] == "publish"
    assert reg["events"][3][3].get("reason") == REPLACE_REASON, "after publication every event's data is public"
    before_closing["register"] = outsider.content()

    # ---- 8. the outsider downloads the bundle and verify.py from the public draw page, verifies alone
    outsider.goto(f"{base}/public/draws/{draw_id}")
    outsider.reload()  # the 404 seen before publication may be kept by the browser for five minutes
    expect(outsider.locator("h1")).to_contain_text(month_label)
    got_verify = tmp_path / "verify-download.py"
    download(outsider, outsider.get_by_role("link", name=re.compile("下载核验程序")), got_verify)
    assert got_verify.read_bytes() == VERIFY_PY.read_bytes()
    before_closing["public draw"] = outsider.content()
    text = download(outsider, outsider.get_by_role("link", name=re.compile("下载核验数据包")), tmp_path / "pub.json")
    before_closing["bundle published"] = text
    bundle = json.loads(text)
    assert bundle["spec"] == "suijian-draw/2" and bundle["draw"]["status"] == "published"
    assert bundle["replacement_secret"] is None and bundle["rseed"] is None
    assert len(bundle["replacements"]) == 1 and bundle["replacements"][0]["reason"] == REPLACE_REASON
    run = verify_alone(tmp_path / "published", text, got_verify)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("PASS"), run.stdout
    assert printed(run, "递补 pending closing") == "1"
    assert printed(run, "log head") == heads[-1], "verify.py prints the head the register showed"
    assert printed(run, "commitment") == commitment
    assert printed(run, "replacement_commitment") == rcommitment
    assert printed(run, "pool_hash") == pool_hash
    assert chain_heads(bundle)[: len(heads)] == heads, "the archived heads are the bundle's chain"
    seed, secret = printed(run, "seed"), bundle["server_secret"]
    assert HEX64.match(seed) and HEX64.match(secret)
    for what, shown in before_publication.items():
        assert seed not in shown and secret not in shown, f"seed or server secret in the {what} before publication"

    # ---- 9. the daily job closes the draw at the end of the month after its period
    from webapp.draw import services
    from webapp.extensions import db

    with server.app.app_context():
        closed = services.close_due(services.close_due_date(period))
        assert draw_id in [d.public_id for d in closed]
        db.session.commit()
        db.session.remove()
    page.goto(draw_url)
    expect(page.locator("#step-banner")).to_contain_text("本次抽取已结束")
    expect(page.locator(f"#t-{task_id} details.r-replace")).to_have_count(0)  # no 递补 after closing
    heads.append(ceremony_head(page))
    rsecret = hash_text(page.locator("#close .hash"))
    assert HEX64.match(rsecret)
    check_layout(page)
    shot(page, "56-draw2-ceremony-closed", width=360)
    reg = register_row(outsider, base, draw_id)
    assert [h for _, _, h, _ in reg["events"]] == heads and reg["events"][-1][1] == "close"
    shot(outsider, "57-draw2-register-closed", width=360)

    outsider.goto(f"{base}/public/draws/{draw_id}")
    outsider.reload()
    text = download(outsider, outsider.get_by_role("link", name=re.compile("下载核验数据包")), tmp_path / "closed.json")
    bundle = json.loads(text)
    assert bundle["draw"]["status"] == "closed" and bundle["replacement_secret"] == rsecret
    rseed = bundle["rseed"]
    assert HEX64.match(rseed)
    for what, shown in {**before_publication, **before_closing}.items():
        assert rsecret not in shown and rseed not in shown, f"replacement secret or rseed in the {what}"
    run = verify_alone(tmp_path / "closed", text, got_verify)
    assert run.returncode == 0 and run.stdout.startswith("PASS"), run.stdout + run.stderr
    assert printed(run, "status") == "closed"
    assert "pending closing" not in run.stdout, "every 递补 is recomputed once the draw is closed"
    assert printed(run, "log head") == heads[-1]

    # ---- 10. an edited or a removed replacement fails verification
    rep = bundle["replacements"][0]
    others = sorted(set(rep["candidates"]) - {rep["in"]})
    assert others, "the 递补 had more than one candidate"
    edited = json.loads(text)
    edited["replacements"][0]["in"] = others[0]
    run = verify_alone(tmp_path / "edited", json.dumps(edited, ensure_ascii=False, indent=2), got_verify)
    assert run.returncode == 1 and run.stdout.startswith("FAIL"), run.stdout + run.stderr
    removed = json.loads(text)
    removed["replacements"] = []
    run = verify_alone(tmp_path / "removed", json.dumps(removed, ensure_ascii=False, indent=2), got_verify)
    assert run.returncode == 1 and run.stdout.startswith("FAIL"), run.stdout + run.stderr
