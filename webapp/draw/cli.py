"""``flask draw …``: the ceremony for operators and auditors (the scripting contract of issue 3).

    flask draw run --org CODE --item CODE --period YYYY-MM --witness TEXT [--witness TEXT …] [--early-reason TEXT]
    flask draw publish ID
    flask draw replace ID --unit UNIT_ID --slot K --reason TEXT
    flask draw abandon ID --reason TEXT
    flask draw close ID             # every task done or cancelled: reveal the replacement secret
    flask draw export ID            # the bundle JSON on stdout; each secret null before its time

``run`` performs the whole ceremony non-interactively: it reuses the organisation's active routine
(annual) plan of the item for the period's year or creates one with the default targets, weights and
slots, freezes the pool and commits (committed to the database before any witness value is read), adds
the witnesses in the order given (``--witness "张三:律师:4711"`` records name, role and value; a text
without two ``:`` is the value alone, recorded as 见证人N), draws, and prints the draw's public id on
the last line of stdout. Before the period's due window (the last two working days of the month before)
``--early-reason`` is required. No output carries the seed or a secret before its time: ``run`` prints the
commitments and the log head after each step, never the seed.

Actions run as the system actor (``audit.record`` names it "system"), like ``flask import-units``.
Every refusal prints a Chinese message on stderr and exits with status 1.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from webapp.auth.models import Organisation, User
from webapp.catalog.models import Item
from webapp.draw import services
from webapp.draw.models import Draw, Plan, PlanKind, PlanStatus
from webapp.draw.plans import parse_period
from webapp.extensions import db
from webapp.registry.models import Unit
from webapp.tasks.models import Task, TaskStatus

SYSTEM_ACTOR: User | None = None  # audit.record records actor None as "system"

draw_cli = AppGroup("draw", help="Plans and draws (双随机): run, publish, replace, abandon, close, export.")


def _fail(message: str) -> NoReturn:
    db.session.rollback()
    click.echo(message, err=True)
    sys.exit(1)


@contextmanager
def _chinese() -> Iterator[None]:
    """Messages in the default (Chinese) locale; a DrawError becomes stderr and exit status 1."""
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_Hans")):
        try:
            yield
        except services.DrawError as exc:
            existing = exc.draw.public_id if exc.draw is not None else None
            _fail(exc.message + (_("（抽取记录：%(id)s）", id=existing) if existing else ""))


def _draw_by_id(draw_id: str) -> Draw:
    draw = db.session.execute(select(Draw).where(Draw.public_id == draw_id.strip())).scalar_one_or_none()
    if draw is None:
        _fail(_("找不到抽取记录：%(id)s", id=draw_id))
    return draw


def _step(action: Callable[[], Any]) -> Any:
    """Run one ceremony step and commit it on its own, as the browser does."""
    try:
        out = action()
    except services.DrawError:
        db.session.rollback()
        raise
    db.session.commit()
    return out


def parse_witness(text: str, n: int) -> tuple[str, str, str]:
    """``NAME:ROLE:VALUE`` (``:`` or ``：``) records who the witness is; any other text is the value alone."""
    parts = re.split(r"[:：]", text, maxsplit=2)
    if len(parts) == 3 and all(p.strip() for p in parts):
        return parts[0].strip(), parts[1].strip(), parts[2]
    return _("见证人%(n)d", n=n), _("命令行见证"), text


def annual_plan(org: Organisation, item: Item, year: int) -> tuple[Plan, bool]:
    """The organisation's active routine plan of ``item`` for ``year``, or a new one with the defaults."""
    plan = (
        db.session.execute(
            select(Plan)
            .where(
                Plan.org_id == org.id,
                Plan.item_id == item.id,
                Plan.year == year,
                Plan.kind == PlanKind.ROUTINE,
                Plan.status == PlanStatus.ACTIVE,
            )
            .order_by(Plan.id)
        )
        .scalars()
        .first()
    )
    if plan is not None:
        return plan, False
    return services.create_plan(SYSTEM_ACTOR, org=org, item=item, year=year), True


@draw_cli.command("run")
@click.option("--org", "org_code", required=True, help="Code of the drawing organisation (e.g. demo-1).")
@click.option("--item", "item_code", required=True, help="Code of the item (e.g. fire-duty).")
@click.option("--period", required=True, help="The month drawn, YYYY-MM.")
@click.option(
    "--witness",
    "witnesses",
    multiple=True,
    required=True,
    help="NAME:ROLE:VALUE (or just VALUE) of one witness, in entry order; repeat for each witness.",
)
@click.option(
    "--early-reason",
    default=None,
    help="Why the draw is committed before its due window (required then; audited, on the public register).",
)
def run_command(
    org_code: str, item_code: str, period: str, witnesses: tuple[str, ...], early_reason: str | None
) -> None:
    """The whole ceremony: plan, commit, witnesses, draw. Prints the draw id on the last line."""
    with _chinese():
        org = db.session.execute(select(Organisation).where(Organisation.code == org_code)).scalar_one_or_none()
        if org is None:
            _fail(_("找不到机构代码：%(code)s", code=org_code))
        item = db.session.execute(select(Item).where(Item.code == item_code)).scalar_one_or_none()
        if item is None:
            _fail(_("找不到抽查事项代码：%(code)s", code=item_code))
        if not item.active:
            _fail(_("该抽查事项已停用"))
        try:
            year, _month = parse_period(period)
        except ValueError:
            _fail(_("抽取月份格式应为YYYY-MM，例如2026-12"))
        period = f"{year:04d}-{_month:02d}"
        plan, created = _step(lambda: annual_plan(org, item, year))
        click.echo(
            _("年度计划：%(id)s %(name)s", id=plan.public_id, name=plan.name) + (_("（新建）") if created else "")
        )

        draw = _step(lambda: services.commit(SYSTEM_ACTOR, plan, period, early_reason=early_reason))
        click.echo(_("抽取记录：%(id)s", id=draw.public_id))
        click.echo(_("检查对象池哈希（pool_hash）：%(h)s", h=draw.pool_hash))
        click.echo(_("承诺值（commitment）：%(c)s", c=draw.commitment))
        if draw.replacement_commitment:
            click.echo(_("递补承诺值（replacement_commitment）：%(c)s", c=draw.replacement_commitment))
        if draw.early_reason:
            click.echo(_("提前抽取原因：%(r)s", r=draw.early_reason))
        _echo_head(draw)

        for n, text in enumerate(witnesses, start=1):
            name, role, value = parse_witness(text, n)
            _step(functools.partial(services.add_witness, SYSTEM_ACTOR, draw, name, role, value))
        db.session.refresh(draw)
        click.echo(_("见证人数值：%(n)d个", n=len(draw.witnesses)))

        _step(lambda: services.perform(SYSTEM_ACTOR, draw))
        db.session.refresh(draw)
        click.echo(_("抽取任务：%(n)d项（公布前保密；随机种子公布时公开）", n=len(draw.result or [])))
        _echo_head(draw)
        click.echo(draw.public_id)


def _echo_head(draw: Draw) -> None:
    """The log head after the step (compare with the public register), for /2 draws."""
    head = services.current_head(draw)
    if head:
        click.echo(_("记录链校验值（head）：%(h)s", h=head))


@draw_cli.command("publish")
@click.argument("draw_id")
def publish_command(draw_id: str) -> None:
    """Publish a drawn plan: tasks become public and the server secret is revealed."""
    with _chinese():
        draw = _draw_by_id(draw_id)
        _step(lambda: services.publish(SYSTEM_ACTOR, draw))
        click.echo(_("已公布：%(id)s", id=draw.public_id))
        _echo_head(draw)


@draw_cli.command("replace")
@click.argument("draw_id")
@click.option("--unit", "unit_id", required=True, help="Public id of the drawn unit (U…).")
@click.option("--slot", type=int, required=True, help="Slot number K (0-based, as in the bundle).")
@click.option("--reason", required=True, help="Why the drawn inspector cannot go (required).")
def replace_command(draw_id: str, unit_id: str, slot: int, reason: str) -> None:
    """递补抽取: redraw the inspector in slot K of the task of UNIT, with a reason."""
    with _chinese():
        draw = _draw_by_id(draw_id)
        task = db.session.execute(
            select(Task)
            .join(Unit, Unit.id == Task.unit_id)
            .where(Task.draw_id == draw.id, Unit.public_id == unit_id.strip(), Task.status != TaskStatus.CANCELLED)
        ).scalar_one_or_none()
        if task is None:
            _fail(_("本次抽取中没有该单位的任务：%(id)s", id=unit_id))
        rep = _step(lambda: services.replace(SYSTEM_ACTOR, draw, task, slot, reason))
        click.echo(
            _(
                "递补抽取完成：岗位%(slot)d 第%(round)d轮，%(out)s → %(in)s",
                slot=rep.slot,
                round=rep.round,
                out=rep.out_inspector.public_id if rep.out_inspector else "—",
                **{"in": rep.in_inspector.public_id},
            )
        )
        _echo_head(draw)


@draw_cli.command("abandon")
@click.argument("draw_id")
@click.option("--reason", required=True, help="Why the draw is abandoned (required; published with it).")
def abandon_command(draw_id: str, reason: str) -> None:
    """Abandon a committed or drawn draw, with a reason. It is published with its secret and result."""
    with _chinese():
        draw = _draw_by_id(draw_id)
        _step(lambda: services.abandon(SYSTEM_ACTOR, draw, reason))
        click.echo(_("已放弃：%(id)s", id=draw.public_id))
        _echo_head(draw)


@draw_cli.command("close")
@click.argument("draw_id")
def close_command(draw_id: str) -> None:
    """Close a published draw whose tasks are all done or cancelled: the replacement secret is revealed."""
    with _chinese():
        draw = _draw_by_id(draw_id)
        _step(lambda: services.close(SYSTEM_ACTOR, draw))
        click.echo(_("已结束：%(id)s（递补密钥已公开，不能再递补）", id=draw.public_id))
        _echo_head(draw)


@draw_cli.command("export")
@click.argument("draw_id")
def export_command(draw_id: str) -> None:
    """Write the verification bundle (JSON) to stdout; each secret is null before its time."""
    with _chinese():
        draw = _draw_by_id(draw_id)
        click.echo(json.dumps(services.bundle(draw), ensure_ascii=False, indent=2))


COMMANDS: list[click.Command] = [draw_cli]
