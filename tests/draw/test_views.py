"""The draw web UI: a whole month through the browser — plan, pool, witnessed ceremony, replacement,
publication, and a bundle that the standalone verifier accepts. Confidentiality before publication."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from flask import g
from sqlalchemy import select

from tests.factories import known_years, make_inspector, make_item, make_org, make_unit, make_user
from tests.helpers import login
from webapp import calendar
from webapp.auth.models import Role
from webapp.draw import engine, queries
from webapp.draw.models import Draw, DrawStatus, Plan
from webapp.extensions import db as _db
from webapp.registry.models import InspectorStatus, UnitClass, UnitStatus
from webapp.tasks.models import Task, TaskKind

VERIFY = Path(__file__).resolve().parents[2] / "webapp" / "draw" / "engine.py"  # the file served as verify.py
HX = {"HX-Request": "true"}
EARLY = "测试：下月抽取提前进行"
OK = {"confirmed": "1"}


def _period() -> tuple[int, str]:
    year, month = queries.next_month(calendar.today())
    return year, queries.period_of(year, month)


@pytest.fixture(autouse=True)
def known_calendar(db):
    """The years these tests draw in are known (DRAW_SPEC section 4), confirmed as an administrator would."""
    known_years()


@pytest.fixture
def world(app, db):
    org = make_org(code="demo-1", name="偃师区消防救援大队")
    other = make_org(code="demo-2", name="孟津区消防救援大队")
    w = {
        "org": org,
        "sup": make_user(org, Role.SUPERVISOR, username="sup"),
        "sup_other": make_user(other, Role.SUPERVISOR, username="sup_other"),
        "admin": make_user(org, Role.ADMIN, username="admin1"),
        "item": make_item(org, code="fire-duty"),
        "units": [make_unit(org, f"人员密集单位{i}", unit_class=UnitClass.KEY, crowded=True) for i in range(3)]
        + [make_unit(org, f"一般单位{i}") for i in range(2)],
        "closed": make_unit(org, "已注销的饭店", status=UnitStatus.CLOSED),
        "inspectors": [],
    }
    for i in range(5):
        user = make_user(org, Role.INSPECTOR, username=f"insp{i}", display_name=f"检查员{i}")
        w["inspectors"].append(make_inspector(org, f"检查员{i}", user=user))
    w["expired"] = make_inspector(org, "证件过期者", cert_valid_until=calendar.today() - dt.timedelta(days=1))
    w["frozen"] = make_inspector(org, "冻结人员", status=InspectorStatus.FROZEN)
    outsider_user = make_user(other, Role.INSPECTOR, username="outsider")
    w["outsider"] = make_inspector(other, "外队检查员", user=outsider_user)
    db.session.commit()
    return w


class Browser:
    """One user's test client. Test requests run inside the test's app context, so Flask-Login's cached
    ``g._login_user`` would leak from one client to the next: drop it before every request."""

    def __init__(self, app, username: str):
        self.client = app.test_client()
        self._fresh()
        login(self.client, username)

    @staticmethod
    def _fresh() -> None:
        g.pop("_login_user", None)

    def get(self, *args, **kw):
        self._fresh()
        return self.client.get(*args, **kw)

    def post(self, *args, **kw):
        self._fresh()
        return self.client.post(*args, **kw)


def _client(app, username: str) -> Browser:
    return Browser(app, username)


def _plan_data(**over) -> dict:
    data = {
        "name": "",
        "start_month": "1",
        "end_month": "12",
        "target_key_crowded": "100",
        "target_key": "80",
        "target_general": "20",
        "target_nine_small": "20",
        "target_other": "0",
        "risk_red": "200",
        "risk_yellow": "150",
        "risk_blue": "100",
        "risk_green": "50",
        "credit_poor": "50",
        "credit_normal": "0",
        "credit_good": "-25",
        "complaint_each": "10",
        "complaint_max": "100",
        "serious_violation": "100",
        "slots-0-dept": "fire",
        "slots-0-role": "lead",
        "slots-1-dept": "fire",
        "slots-1-role": "assist",
        "slots-2-dept": "",
        "slots-2-role": "assist",
        "note": "",
    }
    data.update(over)
    return data


def _create_plan(c) -> Plan:
    year, _ = _period()
    resp = c.post(f"/draw/plans/new?kind=routine&item=fire-duty&year={year}", data=_plan_data())
    assert resp.status_code == 303, resp.get_data(as_text=True)
    plan = _db.session.execute(select(Plan)).scalars().one()
    assert resp.headers["Location"].endswith(f"/draw/plans/{plan.public_id}")
    return plan


def _commit(c, plan: Plan, period: str) -> Draw:
    resp = c.post(
        f"/draw/plans/{plan.public_id}/commit", data={"period": period, "confirmed": "1", "early_reason": EARLY}
    )
    assert resp.status_code == 303
    _db.session.expire_all()
    draw = _db.session.execute(
        select(Draw).where(Draw.plan_id == plan.id, Draw.status != DrawStatus.ABANDONED)
    ).scalar_one()
    assert resp.headers["Location"].endswith(f"/draw/d/{draw.public_id}")
    return draw


def _readable(body: str) -> str:
    """A page as its reader sees it: no tags, no white space (a hash is shown in groups of 8 digits)."""
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", body))


def _every_draw_page(app, c, draw: Draw) -> str:
    """Every page, export and feed that shows something of ``draw``: the supervisor's (``c``) and the
    public's (anonymous), each as sent and as read."""
    d = draw.public_id
    private = [f"/draw/d/{d}", f"/draw/d/{d}?big=1", f"/draw/d/{d}/bundle.json", "/draw/"]
    private += [f"/draw/plans/{draw.plan.public_id}", *(f"/draw/t/{t.public_id}" for t in draw.tasks)]
    bodies = [c.get(u).get_data(as_text=True) for u in private]
    bodies.append(c.get(f"/draw/d/{d}", headers=HX).get_data(as_text=True))
    anonymous = app.test_client()
    public = ["/public/", "/public/draws", f"/public/draws/{d}", f"/public/draws/{d}/bundle.json"]
    public += ["/public/register", "/public/register.atom", "/public/feed.atom", "/public/plans"]
    Browser._fresh()
    bodies += [anonymous.get(u).get_data(as_text=True) for u in public]
    return "\n".join(bodies + [_readable(b) for b in bodies])


def _witness(c, draw: Draw, name: str, role: str, value: str):
    return c.post(f"/draw/d/{draw.public_id}/witnesses", data={"name": name, "role": role, "value": value})


def test_plan_form_validation_is_422_in_chinese(app, world):
    c = _client(app, "sup")
    year, _ = _period()
    page = c.get(f"/draw/plans/new?kind=routine&item=fire-duty&year={year}")
    assert page.status_code == 200
    assert "年度抽查比例" in page.get_data(as_text=True)
    resp = c.post(
        f"/draw/plans/new?kind=routine&item=fire-duty&year={year}",
        data=_plan_data(target_key="150", risk_red="abc", **{"slots-1-dept": ""}),
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "请输入0到100之间的整数" in html
    assert "请输入1到1000之间的整数" in html
    assert "每项任务至少需要2名执法检查人员" in html
    assert 'value="150"' in html  # what was typed is kept
    assert _db.session.execute(select(Plan)).first() is None


def test_special_plan_needs_a_quota(app, world):
    c = _client(app, "sup")
    year, _ = _period()
    url = f"/draw/plans/new?kind=special&item=fire-duty&year={year}"
    assert "专项检查的抽查范围" in c.get(url).get_data(as_text=True)
    quotas = {f"quota_{s}": "0" for s in ("key_crowded", "key", "general", "nine_small", "other")}
    resp = c.post(url, data=_plan_data(**quotas))
    assert resp.status_code == 422
    assert "专项检查至少要为一类单位设置每月抽查数量" in resp.get_data(as_text=True)
    resp = c.post(url, data=_plan_data(**(quotas | {"quota_general": "2"}), unit_classes=["general"], name="春节专项"))
    assert resp.status_code == 303
    plan = _db.session.execute(select(Plan)).scalar_one()
    assert plan.kind.value == "special" and plan.pool_filter == {"unit_classes": ["general"]}
    page = c.get(f"/draw/plans/{plan.public_id}").get_data(as_text=True)
    assert "春节专项" in page and "专项检查" in page


def test_a_whole_month_through_the_browser(app, world, tmp_path):
    _, period = _period()
    sup = _client(app, "sup")

    index = sup.get("/draw/").get_data(as_text=True)
    assert "最后两个工作日" in index or "最后一个工作日" in index

    plan = _create_plan(sup)
    detail = sup.get(f"/draw/plans/{plan.public_id}").get_data(as_text=True)
    assert "年度进度" in detail and "人员密集场所（重点单位）" in detail

    # The pool: units per stratum and every exclusion with its reason; who of the inspectors is out and why.
    pool = sup.get(f"/draw/plans/{plan.public_id}/pool?period={period}")
    html = pool.get_data(as_text=True)
    assert pool.status_code == 200
    assert "已注销的饭店" in html and "已停业/注销" in html
    assert "证件过期者" in html and "执法证件已过期" in html
    assert "冻结人员" in html and "已冻结" in html
    assert "冻结名录并生成承诺值" in html
    assert _db.session.execute(select(Draw)).first() is None  # looking at the pool draws nothing

    draw = _commit(sup, plan, period)
    page = sup.get(f"/draw/d/{draw.public_id}").get_data(as_text=True)
    assert draw.pool_hash[:8] in page and draw.commitment[:8] in page
    assert draw.server_secret[:8] not in page

    # Witness validation: 422 with the Chinese messages, what was typed kept.
    resp = _witness(sup, draw, "", "企业代表", "")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "请填写见证人姓名" in html and "请见证人输入一个随机数值" in html
    # Drawing without a witness is refused.
    resp = sup.post(f"/draw/d/{draw.public_id}/draw", data=OK, headers=HX)
    assert resp.status_code == 422 and "至少需要1位见证人" in resp.get_data(as_text=True)

    assert _witness(sup, draw, "王监督", "廉政监督员", "31415926535897932384").status_code == 303
    resp = sup.post(
        f"/draw/d/{draw.public_id}/witnesses",
        data={"name": "李代表", "role": "企业代表", "value": "27182818284590452353"},
        headers=HX,
    )
    fragment = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "李代表" in fragment and "<html" not in fragment  # only the block
    assert sup.post(f"/draw/d/{draw.public_id}/draw", data=OK).status_code == 303
    _db.session.expire_all()
    draw = _db.session.get(Draw, draw.id)
    assert draw.status == DrawStatus.DRAWN
    tasks = list(draw.tasks)
    assert tasks
    page = sup.get(f"/draw/d/{draw.public_id}").get_data(as_text=True)
    assert "王监督" in page and "廉政监督员" in page and "李代表" in page
    for t in tasks:
        assert t.unit.name in page
        for a in t.active_assignments:
            assert a.inspector.name in page
    assert "主办" in page and "协办" in page and "计划检查日期" in page

    # Confidential until published.
    task0 = tasks[0]
    uname = {i.id: f"insp{n}" for n, i in enumerate(world["inspectors"])}
    assigned = {a.inspector_id for t in tasks for a in t.active_assignments}
    unassigned = [uname[i.id] for i in world["inspectors"] if i.id not in assigned]
    for username in ("sup_other", "admin1", "outsider", *unassigned):
        c = _client(app, username)
        assert c.get(f"/draw/d/{draw.public_id}").status_code == 404, username
        assert c.get(f"/draw/d/{draw.public_id}/bundle.json").status_code == 404, username
        for t in tasks:
            assert c.get(f"/draw/t/{t.public_id}").status_code == 404, username
    lead0 = next(a for a in task0.active_assignments if a.role == "lead").inspector
    c = _client(app, uname[lead0.id])
    assert c.get(f"/draw/d/{draw.public_id}").status_code == 404
    own = c.get(f"/draw/t/{task0.public_id}")
    assert own.status_code == 200 and task0.unit.name in own.get_data(as_text=True)
    for t in tasks:
        if not any(a.inspector_id == lead0.id for a in t.active_assignments):
            assert c.get(f"/draw/t/{t.public_id}").status_code == 404

    # 递补抽取: a reason is required; the replaced inspector loses access to the task.
    out = next(a for a in task0.active_assignments if a.slot == 1).inspector
    url = f"/draw/d/{draw.public_id}/t/{task0.public_id}/replace"
    resp = sup.post(url, data={"slot": "1", "reason": " "})
    assert resp.status_code == 422 and "递补抽取必须填写原因" in resp.get_data(as_text=True)
    out_client = _client(app, uname[out.id])
    assert out_client.get(f"/draw/t/{task0.public_id}").status_code == 200
    assert sup.post(url, data={"slot": "1", "reason": "因病住院，无法参加检查"}).status_code == 303
    _db.session.expire_all()
    task0 = _db.session.get(Task, task0.id)
    newcomer = next(a for a in task0.active_assignments if a.slot == 1).inspector
    assert newcomer.id != out.id
    assert out.id not in {a.inspector_id for a in task0.active_assignments}
    assert out_client.get(f"/draw/t/{task0.public_id}").status_code == 404
    page = sup.get(f"/draw/d/{draw.public_id}").get_data(as_text=True)
    assert "因病住院，无法参加检查" in page and newcomer.name in page
    task_page = sup.get(f"/draw/t/{task0.public_id}").get_data(as_text=True)
    assert out.name in task_page and "因病住院" in task_page  # supervisors see who was replaced

    # Before publication the bundle carries no secret.
    early = json.loads(sup.get(f"/draw/d/{draw.public_id}/bundle.json").get_data(as_text=True))
    assert early["server_secret"] is None

    assert sup.post(f"/draw/d/{draw.public_id}/publish", data=OK).status_code == 303
    _db.session.expire_all()
    assert _db.session.get(Draw, draw.id).status == DrawStatus.PUBLISHED
    page = sup.get(f"/draw/d/{draw.public_id}").get_data(as_text=True)
    assert draw.server_secret[:8] in page
    # Published tasks are public: another organisation's supervisor now sees them.
    assert _client(app, "sup_other").get(f"/draw/t/{task0.public_id}").status_code == 200

    resp = sup.get(f"/draw/d/{draw.public_id}/bundle.json")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    bundle = json.loads(resp.get_data(as_text=True))
    assert bundle["server_secret"] == draw.server_secret
    assert len(bundle["replacements"]) == 1 and bundle["replacements"][0]["reason"] == "因病住院，无法参加检查"
    assert bundle["witness"] == ["31415926535897932384", "27182818284590452353"]
    (tmp_path / "bundle.json").write_bytes(resp.get_data())
    shutil.copy(VERIFY, tmp_path / "verify.py")  # the file alone, as downloaded from the public site
    run = subprocess.run(
        [sys.executable, "verify.py", "bundle.json"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "PASS" in run.stdout

    # Tampering with the published result is caught by the same file.
    bundle["result"][0]["planned_date"] = "1999-01-01"
    (tmp_path / "bad.json").write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    bad = subprocess.run(
        [sys.executable, "verify.py", "bad.json"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 1 and "PASS" not in bad.stdout


def test_the_pool_page_names_every_exclusion_in_chinese(app, world):
    """Each reason an inspector is out of the pool reads in Chinese; no raw code such as cert_expires_in_period."""
    year, period = _period()
    month = int(period[-2:])
    make_inspector(world["org"], "证件本期到期者", cert_valid_until=dt.date(year, month, 10))
    _db.session.commit()
    plan = _create_plan(_client(app, "sup"))
    html = _client(app, "sup").get(f"/draw/plans/{plan.public_id}/pool?period={period}").get_data(as_text=True)
    assert "证件本期到期者" in html and "执法证件将在本期内过期" in html
    raw = set(re.findall(r'<span class="tag red">([a-z_]+)</span>', html))
    assert not raw, f"raw codes on the pool page: {raw}"


def test_abandon_needs_a_reason_and_stays_visible(app, world):
    _, period = _period()
    sup = _client(app, "sup")
    plan = _create_plan(sup)
    draw = _commit(sup, plan, period)
    url = f"/draw/d/{draw.public_id}/abandon"
    resp = sup.post(url, data={"reason": "  "})
    assert resp.status_code == 422 and "放弃抽取必须填写原因" in resp.get_data(as_text=True)
    _db.session.expire_all()
    assert _db.session.get(Draw, draw.id).status == DrawStatus.COMMITTED

    assert sup.post(url, data={"reason": "见证人未按时到场", **OK}).status_code == 303
    _db.session.expire_all()
    abandoned = _db.session.get(Draw, draw.id)
    assert abandoned.status == DrawStatus.ABANDONED and abandoned.abandoned_reason == "见证人未按时到场"
    page = sup.get(f"/draw/d/{draw.public_id}").get_data(as_text=True)
    assert "本次抽取已放弃" in page and "见证人未按时到场" in page
    assert draw.server_secret[:8] in page  # an abandoned draw is published with its secret
    detail = sup.get(f"/draw/plans/{plan.public_id}").get_data(as_text=True)
    assert f"/draw/d/{draw.public_id}" in detail and "已放弃" in detail
    # A new draw for the same month can be committed; the abandoned one is kept.
    again = _commit(sup, plan, period)
    assert again.id != draw.id
    assert _db.session.execute(select(Draw)).scalars().all().__len__() == 2


def test_supervisor_pages_show_shanghai_time(app, world):
    """Issue 9: an abandon at 00:45 UTC reads 08:45 beside a 冻结时间 of 08:45; the plan history too."""
    import time_machine

    moment = dt.datetime.combine(calendar.today(), dt.time(0, 45), tzinfo=dt.UTC)  # 08:45 in Shanghai
    with time_machine.travel(moment, tick=False):
        _, period = _period()
        sup = _client(app, "sup")
        plan = _create_plan(sup)
        draw = _commit(sup, plan, period)
        assert (
            sup.post(f"/draw/d/{draw.public_id}/abandon", data={"reason": "见证人未按时到场", **OK}).status_code == 303
        )
        page = sup.get(f"/draw/d/{draw.public_id}").get_data(as_text=True)
        history = sup.get(f"/draw/plans/{plan.public_id}").get_data(as_text=True)
    day = moment.date().isoformat()
    text = re.sub(r"<[^>]+>", "", page)
    assert re.search(rf"放弃时间：\s*{day} 08:45", text), "the abandon time in Shanghai time"
    assert re.search(rf"冻结时间\s*{day} 08:45:00", text), "the commit time in Shanghai time"
    assert "00:45" not in text
    assert f"{day} 08:45" in re.sub(r"<[^>]+>", "", history) and "00:45" not in history


def test_commit_twice_goes_to_the_existing_draw(app, world):
    _, period = _period()
    sup = _client(app, "sup")
    plan = _create_plan(sup)
    draw = _commit(sup, plan, period)
    resp = sup.post(f"/draw/plans/{plan.public_id}/commit", data={"period": period})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/draw/d/{draw.public_id}")
    assert len(_db.session.execute(select(Draw)).scalars().all()) == 1


def test_plan_pages_are_404_for_other_organisations(app, world):
    sup = _client(app, "sup")
    plan = _create_plan(sup)
    _, period = _period()
    for username in ("sup_other", "admin1"):
        c = _client(app, username)
        assert c.get(f"/draw/plans/{plan.public_id}").status_code == 404
        assert c.get(f"/draw/plans/{plan.public_id}/pool?period={period}").status_code == 404
        assert c.post(f"/draw/plans/{plan.public_id}/commit", data={"period": period}).status_code == 404
    assert _client(app, "insp0").get(f"/draw/plans/{plan.public_id}").status_code == 403


def test_manual_complaint_task_is_marked_not_drawn(app, world):
    sup = _client(app, "sup")
    unit = world["units"][3]
    lead, assist = world["inspectors"][0], world["inspectors"][1]
    form = sup.get("/draw/tasks/new").get_data(as_text=True)
    assert "非随机抽取" in form
    found = sup.get("/draw/tasks/new?q=一般单位", headers=HX).get_data(as_text=True)
    assert unit.public_id in found and "<html" not in found
    day = (calendar.today() + dt.timedelta(days=3)).isoformat()
    data = {
        "unit": unit.public_id,
        "item": "fire-duty",
        "kind": "complaint",
        "planned_date": day,
        "lead": lead.public_id,
        "assist": assist.public_id,
        "origin_note": "",
    }
    resp = sup.post("/draw/tasks/new", data=data)
    assert resp.status_code == 422 and "请填写任务来源" in resp.get_data(as_text=True)
    resp = sup.post("/draw/tasks/new", data=data | {"assist": lead.public_id})
    assert resp.status_code == 422 and "主办和协办不能是同一人" in resp.get_data(as_text=True)
    resp = sup.post("/draw/tasks/new", data=data | {"origin_note": "12345热线转来，工单号A-1"})
    assert resp.status_code == 303
    task = _db.session.execute(select(Task)).scalar_one()
    assert task.kind == TaskKind.COMPLAINT and task.draw_id is None
    page = sup.get(resp.headers["Location"]).get_data(as_text=True)
    assert "非随机抽取（举报投诉）" in page and "12345热线转来" in page
    assert "非随机抽取（举报投诉）" in sup.get("/draw/").get_data(as_text=True)
    # The lead sees their task; another inspector does not.
    assert _client(app, "insp0").get(f"/draw/t/{task.public_id}").status_code == 200
    assert _client(app, "insp4").get(f"/draw/t/{task.public_id}").status_code == 404


def test_validation_pages_render_whole_on_plain_requests(app, world):
    sup = _client(app, "sup")
    resp = sup.post("/draw/tasks/new", data={"kind": "complaint"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "<html" in html
    assert re.search("请先查找并选择检查对象", html)


def test_plan_edit_needs_a_reason_and_is_logged(app, world):
    sup = _client(app, "sup")
    plan = _create_plan(sup)
    url = f"/draw/plans/{plan.public_id}/edit"
    assert "修改原因" in sup.get(url).get_data(as_text=True)
    resp = sup.post(url, data=_plan_data(target_general="30"))
    assert resp.status_code == 422 and "请填写修改原因" in resp.get_data(as_text=True)
    resp = sup.post(url, data=_plan_data(target_general="30", reason="上级要求提高一般单位抽查比例"))
    assert resp.status_code == 303
    _db.session.expire_all()
    assert _db.session.get(Plan, plan.id).targets["general"] == 30
    page = sup.get(f"/draw/plans/{plan.public_id}").get_data(as_text=True)
    assert "修改计划" in page and "上级要求提高一般单位抽查比例" in page


def test_ceremony_confirmations_banner_head_and_no_secret_on_any_page(app, world):
    sup = _client(app, "sup")
    plan = _create_plan(sup)
    _, period = _period()
    # The commit asks for confirmation first (no JS needed), and for the reason when early.
    ask = sup.post(f"/draw/plans/{plan.public_id}/commit", data={"period": period})
    page = ask.get_data(as_text=True)
    assert ask.status_code == 200 and 'name="confirmed" value="1"' in page and "确认冻结名录" in page
    draw = _commit(sup, plan, period)
    url = f"/draw/d/{draw.public_id}"
    html = sup.get(url).get_data(as_text=True)
    assert "请见证人输入随机数值" in html and "开始抽取" in html
    assert re.search(r"<button[^>]*disabled[^>]*>\s*开始抽取", html), "开始抽取 is disabled without a witness"
    assert 'hx-confirm="确认开始抽取' in html and 'hx-confirm="确认放弃' in html
    assert "head-big" in html and draw.events[-1].head[:8] in html
    _witness(sup, draw, "王监督", "廉政监督员", "271828")
    html = sup.get(url).get_data(as_text=True)
    assert "名录已冻结" not in html.split('id="step-banner"')[1][:200]  # the banner moved on with the step
    assert not re.search(r"<button[^>]*disabled[^>]*>\s*开始抽取", html)
    # Without confirmation the draw only asks; with it, the draw happens.
    asked = sup.post(f"{url}/draw")
    assert asked.status_code == 200 and "确认开始抽取" in asked.get_data(as_text=True)
    assert sup.post(f"{url}/draw", data=OK).status_code == 303
    _db.session.expire_all()
    draw = _db.session.get(Draw, draw.id)
    assert draw.result is not None
    task = draw.tasks[0]
    replaced = sup.post(f"{url}/t/{task.public_id}/replace", data={"slot": "1", "reason": "病假"})
    assert replaced.status_code == 303
    rseed = engine.replacement_seed(draw.seed, draw.replacement_secret)
    text = _every_draw_page(app, sup, draw)
    for secret in (draw.seed, draw.server_secret, draw.replacement_secret, rseed):
        assert secret not in text
    assert 'hx-confirm="确认公布' in text and "抽取完成，结果在公布前保密" in text
    assert sup.post(f"{url}/publish", data=OK).status_code == 303
    text = _every_draw_page(app, sup, draw)
    assert draw.seed in text and draw.server_secret in text
    assert draw.replacement_secret not in text and rseed not in text
    assert "结束本次抽取" in text and 'hx-confirm="确认结束' in text
    refused = sup.post(f"{url}/close", data=OK)  # tasks are still planned
    assert refused.status_code == 303
    _db.session.expire_all()
    assert _db.session.get(Draw, draw.id).closed_at is None
