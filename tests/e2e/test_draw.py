"""The draw (双随机) end to end at phone size: plan, pool, commitment, witnesses, draw, confidentiality,
publication, and an outsider verifying the published bundle with the standalone verifier."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.browser import assert_no_horizontal_overflow, assert_touch_targets, login
from webapp.public import views as public_views

ITEM_NAME = "对单位履行消防安全职责情况的日常监督抽查"
# The standalone verifier (stdlib only) exactly as the public site serves it as verify.py.
VERIFY_PY = public_views.VERIFY_PY
WITNESSES = (
    ("张建华", "廉政监督员", "3 1 4 1 5 9 2 6 5 3 5 8 9 7 9 3 2 3 8 4"),
    ("李秀梅", "企业代表", "27182818284590452353"),
)
HEX64 = re.compile(r"^[0-9a-f]{64}$")


def check_layout(page: Page, touch: bool = True) -> None:
    assert_no_horizontal_overflow(page)
    if touch:
        assert_touch_targets(page)


def hash_text(locator) -> str:
    """A hash shown in groups of 8 (spans) read back as one hex string."""
    return re.sub(r"\s", "", locator.inner_text())


def username_of(page: Page, base: str, name: str) -> str:
    """The login of the inspector called ``name``: look them up in the inspector registry (supervisor)."""
    page.goto(f"{base}/registry/inspectors?q={name}")
    page.locator("#results ul a", has_text=name).first.click()
    page.wait_for_load_state()
    found = [t.strip() for t in page.locator("dl.facts dd").all_inner_texts()]
    logins = [t for t in found if re.fullmatch(r"insp-[\w-]+|inspector", t)]
    assert logins, f"no login shown for {name}: {found}"
    return logins[0]


def next_period(today: dt.date) -> tuple[int, str]:
    y, m = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return y, f"{y}-{m:02d}"


def test_supervisor_runs_a_month_and_an_outsider_verifies_it(
    page: Page, new_context, browser_context_args, live_server, shot, tmp_path
):
    base = live_server
    year, period = next_period(dt.date.today())
    month_label = f"{year}年{int(period[5:])}月"

    # ---- 1. the supervisor: plan → pool → commit → witnesses → draw
    page.on(
        "dialog", lambda d: d.accept()
    )  # 开始抽取 and 公布 ask for confirmation (hx-confirm): the supervisor agrees
    login(page, base, "supervisor")
    page.goto(base + "/draw/")
    expect(page.locator("p.due")).to_be_visible()  # the reminder of the next draw
    check_layout(page)
    shot("40-draw-index")
    plan_name = f"{year}年{ITEM_NAME}"
    existing = page.locator("ul.plans > li > a", has_text=plan_name)
    if existing.count():
        existing.first.click()
    else:
        page.get_by_role("link", name="新建年度抽查计划").click()
        page.select_option("#item", label=ITEM_NAME)
        page.select_option("#year", str(year))
        page.get_by_role("button", name="下一步").click()
        expect(page.locator("#plan-form h1")).to_have_text("新建年度抽查计划")
        check_layout(page)
        shot("41-draw-plan-form")
        page.get_by_role("button", name="保存").click()
    expect(page.locator("h1")).to_have_text(plan_name)
    check_layout(page)
    shot("42-draw-plan")

    page.get_by_role("link", name=f"查看{month_label}的抽取名录并抽取").click()
    expect(page.locator("h1")).to_contain_text(f"抽取名录 · {month_label}")
    strata = page.locator("section.card", has=page.locator("h2", has_text="检查对象")).locator("tbody tr")
    assert strata.count() >= 2, "units per stratum are shown"
    for row in strata.all_inner_texts():
        assert re.search(r"\d", row), row
    excluded = page.locator("#excluded")
    expect(excluded.locator("h2")).to_contain_text("不参与本期抽取的单位")
    assert excluded.locator("details.excl").count() >= 1, "the demo has closed units: their exclusion is listed"
    expect(page.locator("#inspectors")).to_contain_text("在抽取范围内")
    pool_inspectors = [
        t.strip() for t in page.locator("#inspectors h3:has-text('在抽取范围内') + ul li > b").all_inner_texts()
    ]
    assert len(pool_inspectors) >= 2
    out_of_pool = [
        t.strip() for t in page.locator("#inspectors h3:has-text('不在抽取范围内') + ul li > b").all_inner_texts()
    ]
    check_layout(page)
    shot("43-draw-pool")

    page.get_by_role("button", name="冻结名录并生成承诺值").click()
    # a confirmation step; drawing before the due window needs a written reason, which the register shows
    expect(page.locator("#confirm-commit h1")).to_contain_text("确认冻结名录并生成承诺值")
    check_layout(page)
    shot("43b-draw-commit-confirm")
    if page.locator("#early_reason").count():
        page.fill("#early_reason", "浏览器测试：提前抽取下月任务")
    page.locator("#confirm-commit").get_by_role("button", name="确认冻结名录并生成承诺值").click()
    expect(page.locator("#ceremony h1")).to_contain_text(month_label)
    page_hashes = page.locator("#ceremony .hashes .hash")
    pool_hash, commitment = hash_text(page_hashes.nth(0)), hash_text(page_hashes.nth(1))
    assert HEX64.match(pool_hash) and HEX64.match(commitment), (pool_hash, commitment)
    expect(page.locator(".status-note.secret")).to_be_visible()
    draw_url = page.url.split("?")[0].split("#")[0]
    assert "/draw/d/" in draw_url
    draw_id = draw_url.rstrip("/").rsplit("/", 1)[1]
    check_layout(page)
    shot("44-draw-committed")

    for i, (name, role, value) in enumerate(WITNESSES, start=1):
        page.fill("#witnesses #name", name)
        page.select_option("#witnesses #role", role)
        page.fill("#witnesses #value", value)
        page.get_by_role("button", name="记录见证人数值").click()  # htmx swaps #ceremony
        expect(page.locator("ol.witness-list > li")).to_have_count(i)
    witnesses = page.locator("ol.witness-list > li")
    for (name, role, value), li in zip(WITNESSES, witnesses.all(), strict=True):
        expect(li.locator(".wname")).to_have_text(name)
        expect(li.locator(".tag")).to_have_text(role)
        expect(li.locator(".wvalue")).to_have_text(value)
    check_layout(page)
    shot("45-draw-witnesses")

    page.get_by_role("button", name="开始抽取").click()
    result = page.locator("#result")
    expect(result.locator("h2")).to_contain_text("抽取结果")
    rows = result.locator("li.result-row")
    n_tasks = rows.count()
    assert n_tasks >= 1
    tasks = []  # (task url, unit name, {inspector names})
    for row in rows.all():
        unit = row.locator("a.r-unit")
        expect(row.locator(".r-date")).to_contain_text(re.compile(r"计划检查日期：\d+月\d+日 周[一二三四五]"))
        people = row.locator("ul.r-people > li")
        roles = [t.strip() for t in people.locator(".tag").all_inner_texts()]
        assert roles.count("主办") == 1 and roles.count("协办") >= 1, roles
        names = {re.sub(r"^(主办|协办)\s*", "", t).split()[0] for t in people.all_inner_texts()}
        assert len(names) == len(roles), f"one person twice on a task: {names}"
        tasks.append((base + unit.get_attribute("href"), unit.inner_text().strip(), names))
    assert len({u for _, u, _ in tasks}) == n_tasks, "no unit drawn twice"
    # the pool and commitment are still shown after the draw and did not change
    assert hash_text(page.locator("#ceremony .hashes .hash").nth(1)) == commitment
    check_layout(page)
    shot("46-draw-result")

    # ---- 2. confidentiality before publication
    assigned_url, assigned_unit, assigned_names = tasks[0]
    insp_name = sorted(assigned_names)[0]
    everyone = set().union(*(names for _, _, names in tasks))
    # a colleague of the same brigade who is on no task (in the pool if any is left, else one excluded from it)
    others = [n for n in pool_inspectors + out_of_pool if n not in everyone]
    insp_login = username_of(page, base, insp_name)
    other_task = next(((u, unit) for u, unit, names in tasks if insp_name not in names), None)
    assert others, "the demo brigade has inspectors outside the pool"
    other_login = username_of(page, base, others[0])

    ctx = new_context(**browser_context_args)
    try:
        ip = ctx.new_page()
        login(ip, base, insp_login)
        # 我的任务 lists exactly their tasks of this draw, not their colleagues'
        ip.goto(base + "/me")
        mine = {u for _, u, names in tasks if insp_name in names}
        listed = {t.strip() for t in ip.locator("ul.tasks li > a .title").all_inner_texts()}
        assert mine <= listed, (mine, listed)
        assert not (listed & ({u for _, u, _ in tasks} - mine)), f"{insp_login} sees colleagues' tasks: {listed}"
        check_layout(ip)
        ip.screenshot(path=str(_artifact("47-draw-inspector-my-tasks")), full_page=True, scale="css")
        ip.locator("ul.tasks li > a", has_text=assigned_unit).first.click()  # the task as they work it
        expect(ip.locator("h1")).to_have_text(assigned_unit)
        assert ip.goto(assigned_url).status == 200  # the drawn task with its inspectors
        expect(ip.locator("h1")).to_have_text(assigned_unit)
        expect(ip.locator("ul.r-people")).to_contain_text(insp_name)
        check_layout(ip)
        ip.screenshot(path=str(_artifact("48-draw-inspector-own-task")), full_page=True, scale="css")
        assert ip.goto(draw_url).status == 404, "an inspector does not see the whole draw"
        if other_task:
            assert ip.goto(other_task[0]).status == 404, "an inspector sees only their own tasks"
        assert ip.goto(f"{base}/public/draws/{draw_id}").status == 404, "not public before publication"
    finally:
        ctx.close()
    ctx = new_context(**browser_context_args)
    try:
        op = ctx.new_page()
        login(op, base, other_login)
        assert op.goto(draw_url).status == 404
        assert op.goto(assigned_url).status == 404, f"{other_login} is not on the task but sees it"
        check_layout(op)
        op.screenshot(path=str(_artifact("49-draw-other-inspector-404")), full_page=True, scale="css")
    finally:
        ctx.close()

    # ---- 3. publish, download the bundle from the page, verify it with verify.py alone
    page.goto(draw_url)
    page.get_by_role("button", name="公布抽取结果").click()
    expect(page.locator("#ceremony .page-head .tag")).to_have_text("已公布")
    secret = hash_text(page.locator("#ceremony .step", has_text="server_secret").locator(".hash"))
    assert HEX64.match(secret)
    check_layout(page)
    shot("50-draw-published")

    with page.expect_download() as dl:
        page.locator("p.noprint a.btn", has_text="下载验证数据包").click()
    bundle_path = tmp_path / "bundle.json"
    dl.value.save_as(bundle_path)
    bundle = json.loads(bundle_path.read_text(encoding="utf-8"))
    assert commitment in json.dumps(bundle) and pool_hash in json.dumps(bundle)
    assert secret in json.dumps(bundle), "the published bundle carries the revealed secret"
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(VERIFY_PY, alone / "verify.py")
    shutil.copy(bundle_path, alone / "bundle.json")
    run = subprocess.run(
        [sys.executable, "-I", "verify.py", "bundle.json"], cwd=alone, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0 and run.stdout.splitlines()[0] == "PASS", run.stdout + run.stderr
    # the check can fail: one digit of a witness's value changed in the bundle
    text = bundle_path.read_text(encoding="utf-8")
    assert WITNESSES[1][2] in text
    (alone / "bundle.json").write_text(text.replace(WITNESSES[1][2], WITNESSES[1][2][:-1] + "4"), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-I", "verify.py", "bundle.json"], cwd=alone, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 1 and "FAIL" in run.stdout, run.stdout + run.stderr

    # ---- 4. an outsider, no login: the public list, the draw, masked names, the verifier
    ctx = new_context(**browser_context_args)
    try:
        pub = ctx.new_page()
        pub.goto(base + "/public/draws")
        link = pub.locator(f"a[href$='/public/draws/{draw_id}']")
        expect(link).to_contain_text(month_label)
        check_layout(pub)
        pub.screenshot(path=str(_artifact("51-public-draws")), full_page=True, scale="css")
        link.click()
        expect(pub.locator("h1")).to_contain_text(month_label)
        body = pub.locator("main").inner_text() if pub.locator("main").count() else pub.inner_text("body")
        items = pub.locator("ol.pub-tasks > li")
        expect(items).to_have_count(n_tasks)
        for _, unit, _ in tasks:
            assert unit in body, f"unit {unit} not on the public page"
        full_names = everyone
        leaked = [n for n in full_names if n in pub.content()]
        assert not leaked, f"full inspector names on the public page: {leaked}"
        masked = pub.locator("ol.pub-tasks ul.who li").all_inner_texts()
        assert masked and all("*" in m for m in masked), masked
        assert commitment in re.sub(r"\s", "", body)
        check_layout(pub)
        pub.screenshot(path=str(_artifact("52-public-draw")), full_page=True, scale="css")
        with pub.expect_download() as dl:
            pub.get_by_role("link", name=re.compile("下载核验程序")).click()
        got = tmp_path / "public-verify.py"
        dl.value.save_as(got)
        assert got.read_bytes() == VERIFY_PY.read_bytes()
        with pub.expect_download() as dl:
            pub.get_by_role("link", name=re.compile("下载核验数据包")).click()
        public_bundle = tmp_path / "pub" / "bundle.json"
        public_bundle.parent.mkdir()
        dl.value.save_as(public_bundle)
        shutil.copy(got, public_bundle.parent / "verify.py")
        run = subprocess.run(
            [sys.executable, "-I", "verify.py", "bundle.json"],
            cwd=public_bundle.parent,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 0 and run.stdout.splitlines()[0] == "PASS", run.stdout + run.stderr
    finally:
        ctx.close()


def _artifact(name: str) -> Path:
    from tests.e2e.browser import ARTIFACTS

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{name}.png"
