"""The scripting contract (issue 3): ``flask draw run/publish/replace/abandon/export`` on the demo data,
checked with the standalone verifier run as a separate process, exactly as an outside auditor would."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.factories import known_years
from webapp import calendar, demo
from webapp.audit import AuditEvent
from webapp.auth.models import Organisation
from webapp.draw.models import Draw, DrawStatus, Plan
from webapp.tasks.models import TaskAssignment

VERIFY = Path(__file__).resolve().parents[2] / "webapp" / "draw" / "engine.py"  # the file served as verify.py


def next_month(day: dt.date, n: int = 1) -> str:
    m = day.month - 1 + n
    return f"{day.year + m // 12:04d}-{m % 12 + 1:02d}"


@pytest.fixture(autouse=True)
def known_calendar(db):
    """The years these tests draw in are known (DRAW_SPEC section 4), confirmed as an administrator would."""
    known_years()


@pytest.fixture
def demo_data(db):
    demo.load_demo(units=300)
    db.session.commit()


@pytest.fixture
def cli(app, demo_data):
    runner = app.test_cli_runner()

    def invoke(*args: str):
        return runner.invoke(args=["draw", *args])

    return invoke


def standalone_verify(tmp_path: Path, bundle_text: str, name: str = "bundle.json") -> subprocess.CompletedProcess:
    """``python verify.py bundle.json`` with the file alone in an empty directory (isolated mode: stdlib only)."""
    shutil.copy(VERIFY, tmp_path / "verify.py")
    (tmp_path / name).write_text(bundle_text, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-I", "verify.py", name], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )


EARLY = "测试：下月抽取提前进行"


def run_draw(cli, period: str, *witnesses: str) -> str:
    result = cli(
        "run", "--org", "demo-1", "--item", "fire-duty", "--period", period, "--early-reason", EARLY,
        *[a for w in witnesses for a in ("--witness", w)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.stdout.strip().splitlines()[-1]


def test_the_whole_contract_end_to_end(cli, db, tmp_path):
    period = next_month(calendar.today())
    draw_id = run_draw(cli, period, "12345678901234567890", "李四：企业代表：  骰子 6 6 1  ")
    draw = db.session.execute(select(Draw).where(Draw.public_id == draw_id)).scalar_one()
    assert draw.status == DrawStatus.DRAWN and draw.org.code == "demo-1" and draw.period == period
    assert draw.result, "the demo brigade's month has tasks"
    plan = db.session.get(Plan, draw.plan_id)
    assert plan.item.code == "fire-duty" and plan.year == int(period[:4])

    # Before publication the bundle hides the secret and the verifier says so (exit 1).
    exported = cli("export", draw_id)
    assert exported.exit_code == 0, exported.output
    bundle = json.loads(exported.stdout)
    assert bundle["server_secret"] is None and bundle["draw"]["status"] == "drawn"
    assert bundle["witness"] == ["12345678901234567890", "骰子 6 6 1"]  # NFC-normalised, stripped, in order
    who = [(w.name, w.role) for w in draw.witnesses]
    assert who == [("见证人1", "命令行见证"), ("李四", "企业代表")]  # NAME:ROLE:VALUE records who the witness is
    assert bundle["seed"] is None and bundle["replacement_secret"] is None and bundle["rseed"] is None
    early = standalone_verify(tmp_path, exported.stdout)
    assert early.returncode == 1 and early.stdout.startswith("FAIL")

    # 递补抽取 through the CLI, then publish: the published bundle verifies with the file alone.
    unit_id = bundle["result"][0]["unit_id"]
    out_inspector = bundle["result"][0]["assignments"][1]["inspector_id"]
    replaced = cli("replace", draw_id, "--unit", unit_id, "--slot", "1", "--reason", "病假，无法参加检查")
    assert replaced.exit_code == 0, replaced.output
    published = cli("publish", draw_id)
    assert published.exit_code == 0, published.output

    final = cli("export", draw_id)
    assert final.exit_code == 0
    bundle = json.loads(final.stdout)
    assert bundle["draw"]["status"] == "published"
    assert bundle["server_secret"] == db.session.execute(select(Draw.server_secret).where(Draw.id == draw.id)).scalar()
    [rep] = bundle["replacements"]
    assert (rep["unit_id"], rep["slot"], rep["round"], rep["out"]) == (unit_id, 1, 1, out_inspector)
    assert rep["in"] != out_inspector and rep["reason"] == "病假，无法参加检查"
    passed = standalone_verify(tmp_path, final.stdout)
    assert passed.returncode == 0 and passed.stdout.startswith("PASS"), passed.stdout + passed.stderr
    assert draw_id in passed.stdout and bundle["log_head"] in passed.stdout

    # The module form inside the repository agrees.
    (tmp_path / "published.json").write_text(final.stdout, encoding="utf-8")
    module = subprocess.run(
        [sys.executable, "-m", "webapp.draw.verify", str(tmp_path / "published.json")],
        cwd=VERIFY.parents[2],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert module.returncode == 0 and module.stdout.startswith("PASS"), module.stdout + module.stderr

    # A tampered bundle fails with the first difference (exit 1): a swapped inspector in the result.
    tampered = json.loads(final.stdout)
    first = tampered["result"][0]["assignments"]
    first[0]["inspector_id"], first[1]["inspector_id"] = first[1]["inspector_id"], first[0]["inspector_id"]
    bad = standalone_verify(tmp_path, json.dumps(tampered, ensure_ascii=False), "tampered.json")
    assert bad.returncode == 1 and bad.stdout.startswith("FAIL"), bad.stdout
    # … and so does a changed witness value (the seed no longer matches).
    tampered = json.loads(final.stdout)
    tampered["witness"][0] = "12345678901234567891"
    bad = standalone_verify(tmp_path, json.dumps(tampered, ensure_ascii=False), "witness.json")
    assert bad.returncode == 1 and bad.stdout.startswith("FAIL"), bad.stdout

    # Abandon a draw of another period: it needs a reason, and is then public with its secret.
    other_id = run_draw(cli, next_month(calendar.today(), 2), "9876543210")
    refused = cli("abandon", other_id, "--reason", "   ")
    assert refused.exit_code == 1 and "放弃抽取必须填写原因" in refused.stderr
    abandoned = cli("abandon", other_id, "--reason", "见证人数值录入有误，经集体研究放弃")
    assert abandoned.exit_code == 0, abandoned.output
    other = json.loads(cli("export", other_id).stdout)
    assert other["draw"]["status"] == "closed"  # an abandoned draw is published and closed at once
    assert other["draw"]["abandoned_reason"] == "见证人数值录入有误，经集体研究放弃"
    assert other["server_secret"] is not None and other["replacement_secret"] is not None
    assert [e["type"] for e in other["log"]][-3:] == ["abandon", "publish", "close"]
    checked = standalone_verify(tmp_path, json.dumps(other, ensure_ascii=False), "abandoned.json")
    assert checked.returncode == 0 and checked.stdout.startswith("PASS"), checked.stdout

    # Every step is in the audit log, as the system actor.
    actions = [
        a
        for (a,) in db.session.execute(
            select(AuditEvent.action).where(AuditEvent.actor_name == "system").order_by(AuditEvent.id)
        )
    ]
    # (the plan is the CLI's own unless the demo's plan of the year already covers the period)
    for needed in (
        *(("plan.created",) if plan.created_by_id is None else ()),
        "draw.committed",
        "draw.witness_added",
        "draw.drawn",
        "draw.replaced",
        "draw.published",
        "draw.abandoned",
    ):
        assert needed in actions
    assert actions.count("draw.witness_added") == 3


def test_run_reuses_the_plan_and_refuses_a_second_draw_of_the_period(cli, db):
    period = next_month(calendar.today())
    first = run_draw(cli, period, "111")
    again = cli(
        "run", "--org", "demo-1", "--item", "fire-duty", "--period", period, "--early-reason", EARLY, "--witness", "222"
    )  # fmt: skip
    assert again.exit_code == 1
    assert "本期已有抽取记录" in again.stderr and first in again.stderr
    # the demo's own published draw of this month is there too; this period has exactly one draw and one plan
    assert len(db.session.execute(select(Draw.id).where(Draw.period == period)).all()) == 1
    assert len(db.session.execute(select(Plan.id).where(Plan.year == int(period[:4]))).all()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org", "nowhere", "--item", "fire-duty"], "找不到机构代码"),
        (["--org", "demo-1", "--item", "nothing"], "找不到抽查事项代码"),
    ],
)
def test_run_rejects_unknown_codes(cli, args, message):
    result = cli("run", *args, "--period", next_month(calendar.today()), "--witness", "1")
    assert result.exit_code == 1 and message in result.stderr and result.stdout == ""


def test_run_rejects_a_bad_or_past_period(cli):
    bad = cli("run", "--org", "demo-1", "--item", "fire-duty", "--period", "2026/12", "--witness", "1")
    assert bad.exit_code == 1 and "YYYY-MM" in bad.stderr
    past = cli("run", "--org", "demo-1", "--item", "fire-duty", "--period", "2020-01", "--witness", "1")
    assert past.exit_code != 0
    assert "不在本计划的时间范围内" in past.stderr or "已过去" in past.stderr


def test_run_needs_a_witness(cli):
    result = cli("run", "--org", "demo-1", "--item", "fire-duty", "--period", next_month(calendar.today()))
    assert result.exit_code != 0 and "--witness" in result.output


def test_replace_needs_a_reason_and_a_drawn_unit(cli, db):
    draw_id = run_draw(cli, next_month(calendar.today()), "42")
    bundle = json.loads(cli("export", draw_id).stdout)
    unit_id = bundle["result"][0]["unit_id"]
    no_reason = cli("replace", draw_id, "--unit", unit_id, "--slot", "0", "--reason", "")
    assert no_reason.exit_code == 1 and "递补抽取必须填写原因" in no_reason.stderr
    wrong_unit = cli("replace", draw_id, "--unit", "U-not-drawn", "--slot", "0", "--reason", "出差")
    assert wrong_unit.exit_code == 1 and "没有该单位的任务" in wrong_unit.stderr
    assert db.session.execute(select(TaskAssignment.id).where(TaskAssignment.active.is_(False))).first() is None


def test_unknown_draw_and_demo_codes(cli, db):
    for args in (["publish", "D-none"], ["export", "D-none"], ["abandon", "D-none", "--reason", "x"]):
        result = cli(*args)
        assert result.exit_code == 1 and "找不到抽取记录" in result.stderr
    codes = {o.code for o in db.session.execute(select(Organisation)).scalars()}
    assert "demo-1" in codes


def test_run_before_the_due_window_needs_an_early_reason(cli, db):
    period = next_month(calendar.today(), 2)  # months ahead: always before the due window
    refused = cli("run", "--org", "demo-1", "--item", "fire-duty", "--period", period, "--witness", "1")
    assert refused.exit_code == 1 and "提前抽取" in refused.stderr
    assert db.session.execute(select(Draw.id).where(Draw.period == period)).first() is None
    draw_id = run_draw(cli, period, "1")
    draw = db.session.execute(select(Draw).where(Draw.public_id == draw_id)).scalar_one()
    assert draw.early_reason == EARLY
    audited = (
        db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "draw.committed").order_by(AuditEvent.id.desc())
        )
        .scalars()
        .first()
    )
    assert audited.reason == EARLY


def test_no_cli_output_carries_a_secret_before_its_time(cli, db, tmp_path):
    period = next_month(calendar.today())
    run = cli("run", "--org", "demo-1", "--item", "fire-duty", "--period", period, "--early-reason", EARLY,
              "--witness", "777")  # fmt: skip
    assert run.exit_code == 0, run.output
    draw_id = run.stdout.strip().splitlines()[-1]
    draw = db.session.execute(select(Draw).where(Draw.public_id == draw_id)).scalar_one()
    bundle = json.loads(cli("export", draw_id).stdout)
    unit_id = bundle["result"][0]["unit_id"]
    replaced = cli("replace", draw_id, "--unit", unit_id, "--slot", "1", "--reason", "病假")
    exported = cli("export", draw_id)
    before = run.output + replaced.output + exported.output
    for secret in (draw.seed, draw.server_secret, draw.replacement_secret):
        assert secret not in before
    published = cli("publish", draw_id)
    after_publish = published.output + cli("export", draw_id).output
    assert draw.replacement_secret not in after_publish
    from webapp.draw import engine

    rseed = engine.replacement_seed(draw.seed, draw.replacement_secret)
    assert rseed not in before + after_publish
    # every task done or cancelled? not yet: closing is refused; the daily job's date is not reached either
    refused = cli("close", draw_id)
    assert refused.exit_code == 1 and "未完成" in refused.stderr
