"""双随机: plans, the pool before the draw, the witnessed ceremony, replacements, publication.

Views are thin: they parse input, call ``webapp.draw.services`` (the ceremony) or ``webapp.draw.queries``
(read-only look-ups), and render. A ``DrawError``'s Chinese message is shown to the user. Unpublished
draws and their tasks are confidential: anyone but the supervisors of the drawing organisation (and, for a
task, its assigned inspectors) gets 404, admins included. No page or endpoint computes a result before the
commitment exists: the pool page shows the pool and its exclusions, never a draw.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.routing import BuildError

from webapp import calendar
from webapp.audit import AuditEvent
from webapp.auth import access
from webapp.auth.permissions import login_required, supervisor_required
from webapp.draw import engine, queries, services
from webapp.draw.forms import (
    CommitForm,
    EmptyForm,
    ManualTaskForm,
    PlanForm,
    ReasonForm,
    ReplaceForm,
    WitnessForm,
    plan_form_data,
)
from webapp.draw.labels import dept_label, draw_globals
from webapp.draw.models import Draw, Plan, PlanKind
from webapp.draw.plans import (
    DEFAULT_SLOTS,
    DEFAULT_TARGETS,
    DEFAULT_WEIGHTS,
    JOINT_SLOTS,
    JOINT_TARGETS,
    eligibility,
    parse_period,
)
from webapp.draw.pool import inspector_pool
from webapp.draw.services import DrawError
from webapp.extensions import db
from webapp.registry.audit.labels import ACTION_LABELS
from webapp.registry.labels import UNIT_CLASS
from webapp.tasks import services as task_services
from webapp.tasks.labels import SLOT_ROLE
from webapp.web import FORM, ServiceError, after_post, apply_errors, choices, is_htmx, render

bp = Blueprint("draw", __name__, url_prefix="/draw")
EXCLUDED_PAGE = 100  # excluded units listed per reason before "show all"


@bp.context_processor
def _labels() -> dict:
    try:
        public_url = url_for("public.draws")
    except BuildError:  # the public site's draw list is not there yet
        public_url = None
    return draw_globals() | {
        "ACTION_LABELS": ACTION_LABELS,
        "public_draws_url": public_url,
        "UNIT_CLASS_LABEL": {k.value: v for k, v in UNIT_CLASS.items()},
    }


def _plan_or_404(public_id: str) -> Plan:
    plan = queries.get_plan(public_id)
    if plan is None or not access.can_manage_plan(current_user, plan):
        abort(404)
    return plan


def _draw_or_404(public_id: str) -> Draw:
    draw = queries.get_draw(public_id)
    if draw is None or not access.can_manage_draw(current_user, draw):
        abort(404)
    return draw


# ---------------------------------------------------------------------------------------------- index


@bp.route("/")
@supervisor_required
def index():
    due = services.next_draw_due(current_user.org_id)
    may_draw = access.can_supervise_cases(current_user)
    return render(
        "draw/index.html",
        due=due,
        rows=queries.plans_for(current_user) if may_draw else [],
        manual=queries.manual_tasks(current_user) if may_draw else [],
        may_draw=may_draw,
    )


# ---------------------------------------------------------------------------------------------- plans


def _defaults_for(item, kind: PlanKind) -> dict:
    joint = item.current.is_joint
    return plan_form_data(
        name=None,
        targets={} if kind == PlanKind.SPECIAL else (JOINT_TARGETS if joint else DEFAULT_TARGETS),
        monthly_quotas=None,
        weights=DEFAULT_WEIGHTS,
        slots=JOINT_SLOTS if joint else DEFAULT_SLOTS,
        unit_org_ids=services.default_unit_orgs(current_user.org),
        pool_filter=None,
        start_month=1,
        end_month=12,
        note=None,
    )


def _form_for(plan_org, data: dict | None) -> PlanForm:
    form = PlanForm(data=data) if data is not None else PlanForm()
    form.unit_orgs.choices = choices((str(o.id), o.name) for o in queries.dadui_below(plan_org))
    return form


def _slot_rows_ok(values: dict, errors: dict) -> None:
    if len(values.get("slots", [])) < 2 and "slots" not in errors:
        errors["slots"] = _("每项任务至少需要2名执法检查人员")


@bp.route("/plans/new", methods=["GET", "POST"])
@supervisor_required
def plan_new():
    if not access.can_supervise_cases(current_user):
        abort(404)
    kind = PlanKind.SPECIAL if request.args.get("kind") == "special" else PlanKind.ROUTINE
    today = calendar.today()
    years = [today.year, today.year + 1]
    year = int(request.args["year"]) if request.args.get("year", "").isdigit() else years[0]
    item = queries.get_item(request.args.get("item", ""))
    if item is None or not item.active or year not in years:
        # Step 1: the item and the year decide the defaults (a joint item gets slots of each department).
        return render("draw/plan_start.html", kind=kind, items=queries.active_items(), years=years, year=year)
    org = current_user.org
    form = _form_for(org, _defaults_for(item, kind) if request.method == "GET" else None)
    if form.validate_on_submit():
        values, errors = form.parse(kind, editing=False)
        _slot_rows_ok(values, errors)
        if not errors:
            try:
                plan = services.create_plan(current_user, org=org, item=item, year=year, kind=kind, **values)
                db.session.commit()
            except DrawError as e:
                db.session.rollback()
                errors[FORM] = e.message
            else:
                flash(_("已创建：%(name)s", name=plan.name), "success")
                return after_post(url_for("draw.plan_detail", public_id=plan.public_id))
        apply_errors(form, errors)
    return render(
        "draw/plan_form.html",
        status=422 if request.method == "POST" else 200,
        form=form,
        plan=None,
        item=item,
        kind=kind,
        year=year,
    )


@bp.route("/plans/<public_id>")
@supervisor_required
def plan_detail(public_id: str):
    plan = _plan_or_404(public_id)
    events = db.session.execute(
        select(AuditEvent)
        .where(AuditEvent.subject_type == "plan", AuditEvent.subject_id == str(plan.id))
        .order_by(AuditEvent.id.desc())
    ).scalars()
    return render(
        "draw/plan.html",
        plan=plan,
        progress=queries.plan_progress(plan, calendar.today()),
        unit_orgs=queries.orgs_by_id(plan.unit_org_ids),
        inspector_orgs=queries.orgs_by_id(plan.inspector_org_ids),
        events=list(events),
        due=services.next_draw_due(plan.org_id),
    )


@bp.route("/plans/<public_id>/edit", methods=["GET", "POST"])
@supervisor_required
def plan_edit(public_id: str):
    plan = _plan_or_404(public_id)
    data = None
    if request.method == "GET":
        data = plan_form_data(
            name=plan.name,
            targets=plan.targets or {},
            monthly_quotas=plan.monthly_quotas,
            weights=plan.weights or DEFAULT_WEIGHTS,
            slots=plan.slots or [],
            unit_org_ids=plan.unit_org_ids or [],
            pool_filter=plan.pool_filter,
            start_month=plan.start_month,
            end_month=plan.end_month,
            note=plan.note,
        )
    form = _form_for(plan.org, data)
    if form.validate_on_submit():
        values, errors = form.parse(plan.kind, editing=True)
        _slot_rows_ok(values, errors)
        if not errors:
            values["name"] = values["name"] or plan.name
            unit_orgs = values.get("unit_org_ids", plan.unit_org_ids)
            depts = sorted({s["dept"] for s in values["slots"]})
            values["inspector_org_ids"] = services.default_inspector_orgs(plan.org, depts, unit_orgs)
            try:
                services.update_plan(current_user, plan, values, (form.reason.data or "").strip())
                db.session.commit()
            except DrawError as e:
                db.session.rollback()
                errors[FORM] = e.message
            else:
                flash(_("已保存修改"), "success")
                return after_post(url_for("draw.plan_detail", public_id=plan.public_id))
        apply_errors(form, errors)
    return render(
        "draw/plan_form.html",
        status=422 if request.method == "POST" else 200,
        form=form,
        plan=plan,
        item=plan.item,
        kind=plan.kind,
        year=plan.year,
    )


# -------------------------------------------------------------------------------- eligibility (pool)


@bp.route("/plans/<public_id>/pool")
@supervisor_required
def pool(public_id: str):
    plan = _plan_or_404(public_id)
    today = calendar.today()
    periods = queries.plan_periods(plan)
    period = request.args.get("period") or queries.default_period(plan, today)
    if period not in periods:
        abort(404)
    elig = eligibility(plan, period)
    problem = None
    try:
        problems = engine.feasibility(elig.pool())
    except ValueError as exc:  # a malformed pool (e.g. an inspector's weight out of range)
        problem = _("名录数据有误，不能冻结：%(e)s", e=str(exc))
    else:
        if problems:
            problem = services.explain_infeasible(problems, elig)
    groups: dict[str, list[dict]] = {}
    for e in elig.excluded:
        groups.setdefault(e["reason"], []).append(e)
    shown = request.args.get("reason") if request.args.get("reason") in groups else None
    page = int(request.args["page"]) if request.args.get("page", "").isdigit() and shown else 1
    return render(
        "draw/pool.html",
        plan=plan,
        period=period,
        periods=periods,
        elig=elig,
        problem=problem,
        live=services.live_draw(plan, period),
        past=period < queries.period_of(today.year, today.month),
        groups=groups,
        shown=shown,
        page=max(1, page),
        per_page=EXCLUDED_PAGE,
        commit_form=CommitForm(data={"period": period}),
        due=services.next_draw_due(plan.org_id),
        gate=calendar.period_gate(*calendar.month_bounds(*parse_period(period))),
    )


def _commit_confirm(plan: Plan, period: str, form: CommitForm, error: str | None = None, status: int = 200):
    """The confirmation step before freezing (works without JavaScript); asks for the reason when early."""
    today = calendar.today()
    return render(
        "draw/commit_confirm.html",
        status=status,
        plan=plan,
        period=period,
        form=form,
        window=services.due_window(period),
        early=services.is_early(period, today),
        error=error,
    )


@bp.route("/plans/<public_id>/commit", methods=["POST"])
@supervisor_required
def commit(public_id: str):
    plan = _plan_or_404(public_id)
    form = CommitForm()
    form.validate()
    period = (form.period.data or "").strip()
    if period not in queries.plan_periods(plan):
        flash(_("%(p)s 不在本计划的时间范围内", p=period), "error")
        return after_post(url_for("draw.plan_detail", public_id=plan.public_id))
    existing = services.live_draw(plan, period)
    if existing is not None:  # committed already (another tab, another supervisor): no second confirmation
        flash(_("本期已有抽取记录，不能重复抽取"), "warning")
        return after_post(url_for("draw.ceremony", public_id=existing.public_id))
    if form.confirmed.data != "1":
        return _commit_confirm(plan, period, form)
    early_reason = (form.early_reason.data or "").strip()
    if services.is_early(period, calendar.today()) and not early_reason:
        apply_errors(form, {"early_reason": _("提前抽取必须写明原因")})
        return _commit_confirm(plan, period, form, status=422)
    try:
        draw = services.commit(current_user, plan, period, early_reason=early_reason or None)
        db.session.commit()
    except DrawError as e:
        db.session.rollback()
        if e.draw is not None:
            flash(e.message, "warning")
            return after_post(url_for("draw.ceremony", public_id=e.draw.public_id))
        flash(e.message, "error")
        return after_post(url_for("draw.pool", public_id=plan.public_id, period=period))
    # no flash: the ceremony page's banner follows the step (it says the pool is frozen while it is the step)
    return after_post(url_for("draw.ceremony", public_id=draw.public_id))


# ------------------------------------------------------------------------------------------ ceremony


def _replace_form(row, data: dict | None = None, draw: Draw | None = None) -> ReplaceForm:
    """The 递补 form of one task: its held slots, and (/2) the slots left empty at the draw."""
    form = ReplaceForm(formdata=None, data=data or {})
    options = [
        (a.slot, f"{SLOT_ROLE.get(a.role, a.role)} {a.inspector.name}（{dept_label(a.dept)}）") for a in row.active
    ]
    if draw is not None and draw.has_log:
        held = {a.slot for a in row.active}
        for k, slot in enumerate(draw.pool.get("slots", [])):
            if k not in held:
                label = _(
                    "%(role)s（空缺，%(dept)s）",
                    role=SLOT_ROLE.get(slot["role"], slot["role"]),
                    dept=dept_label(slot["dept"]),
                )
                options.append((k, label))
    form.slot.choices = choices((str(k), label) for k, label in sorted(options, key=lambda o: o[0]))
    return form


def _ceremony(
    draw: Draw,
    *,
    witness_form: WitnessForm | None = None,
    abandon_form: ReasonForm | None = None,
    replace_for: str | None = None,
    replace_form: ReplaceForm | None = None,
    notice: str | None = None,
    error: str | None = None,
    confirm: str | None = None,
    status: int = 200,
):
    rows = queries.result_rows(draw) if draw.result is not None else []
    replace_forms = {}
    for row in rows:
        if row.task.public_id == replace_for and replace_form is not None:
            replace_forms[row.task.public_id] = replace_form
        else:
            replace_forms[row.task.public_id] = _replace_form(row, draw=draw)
    return render(
        "draw/ceremony.html",
        block="ceremony",
        status=status,
        draw=draw,
        plan=draw.plan,
        summary=queries.pool_summary(draw),
        witnesses=list(draw.witnesses),
        rows=rows,
        witness_form=witness_form or WitnessForm(formdata=None),
        abandon_form=abandon_form or ReasonForm(formdata=None),
        replace_forms=replace_forms,
        action_form=EmptyForm(formdata=None),
        replace_for=replace_for,
        notice=notice,
        error=error,
        confirm=confirm,
        head=services.current_head(draw),
        close_blockers=len(services.close_blockers(draw)) if draw.status.value == "published" else 0,
        big=request.args.get("big") == "1",
    )


def _confirmed() -> bool:
    """The step was confirmed: by hx-confirm (htmx adds ``confirmed=1``) or on the confirmation box (no JS)."""
    return request.form.get("confirmed") == "1"


def _done(draw: Draw, notice: str):
    """After a successful ceremony step: the fresh block for htmx, else redirect to the page (PRG)."""
    if is_htmx():
        db.session.refresh(draw)
        return _ceremony(draw, notice=notice)
    flash(notice, "success")
    return redirect(url_for("draw.ceremony", public_id=draw.public_id), code=303)


def _refused(draw: Draw, message: str):
    """A refused step without typed input to keep: the block with the message, or flash and redirect."""
    if is_htmx():
        db.session.refresh(draw)
        return _ceremony(draw, error=message, status=422)
    flash(message, "error")
    return redirect(url_for("draw.ceremony", public_id=draw.public_id), code=303)


@bp.route("/d/<public_id>")
@login_required
def ceremony(public_id: str):
    return _ceremony(_draw_or_404(public_id))


@bp.route("/d/<public_id>/witnesses", methods=["POST"])
@supervisor_required
def witness(public_id: str):
    draw = _draw_or_404(public_id)
    form = WitnessForm()
    form.validate()
    (name, role, value), errors = form.parse()
    if not errors:
        try:
            w = services.add_witness(current_user, draw, name, role, value)
            db.session.commit()
        except DrawError as e:
            db.session.rollback()
            errors[FORM] = e.message
        else:
            return _done(draw, _("已记录第%(n)d位见证人（%(name)s）输入的数值", n=w.seq, name=w.name))
    apply_errors(form, errors)
    db.session.refresh(draw)
    return _ceremony(draw, witness_form=form, status=422)


@bp.route("/d/<public_id>/draw", methods=["POST"])
@supervisor_required
def perform(public_id: str):
    draw = _draw_or_404(public_id)
    EmptyForm().validate()
    if not _confirmed():
        return _ceremony(draw, confirm="draw")
    try:
        services.perform(current_user, draw)
        n = len(draw.result or [])
        db.session.commit()
    except DrawError as e:
        db.session.rollback()
        return _refused(draw, e.message)
    return _done(draw, _("抽取完成：共%(n)d项检查任务。结果在公布前保密。", n=n))


@bp.route("/d/<public_id>/publish", methods=["POST"])
@supervisor_required
def publish(public_id: str):
    draw = _draw_or_404(public_id)
    EmptyForm().validate()
    if not _confirmed():
        return _ceremony(draw, confirm="publish")
    try:
        services.publish(current_user, draw)
        db.session.commit()
    except DrawError as e:
        db.session.rollback()
        return _refused(draw, e.message)
    return _done(draw, _("已公布：检查任务、服务器密钥和验证数据包已向社会公开。"))


@bp.route("/d/<public_id>/close", methods=["POST"])
@supervisor_required
def close(public_id: str):
    draw = _draw_or_404(public_id)
    EmptyForm().validate()
    if not _confirmed():
        return _ceremony(draw, confirm="close")
    try:
        services.close(current_user, draw)
        db.session.commit()
    except DrawError as e:
        db.session.rollback()
        return _refused(draw, e.message)
    return _done(draw, _("本次抽取已结束：递补密钥已公开，任何人可核验每一次递补；不能再递补。"))


@bp.route("/d/<public_id>/abandon", methods=["POST"])
@supervisor_required
def abandon(public_id: str):
    draw = _draw_or_404(public_id)
    form = ReasonForm()
    form.validate()
    reason = (form.reason.data or "").strip()
    if not reason:
        apply_errors(form, {"reason": _("放弃抽取必须填写原因")})
        return _ceremony(draw, abandon_form=form, status=422)
    if not _confirmed():
        return _ceremony(draw, abandon_form=form, confirm="abandon")
    try:
        services.abandon(current_user, draw, reason)
        db.session.commit()
    except DrawError as e:
        db.session.rollback()
        db.session.refresh(draw)
        apply_errors(form, {FORM: e.message})
        return _ceremony(draw, abandon_form=form, status=422)
    return _done(draw, _("本次抽取已放弃并结束。放弃原因、密钥和已抽取的结果均已公开。"))


@bp.route("/d/<public_id>/t/<task_id>/replace", methods=["POST"])
@supervisor_required
def replace(public_id: str, task_id: str):
    draw = _draw_or_404(public_id)
    task = queries.get_task(task_id)
    if task is None or task.draw_id != draw.id:
        abort(404)
    form = ReplaceForm()
    form.validate()
    reason = (form.reason.data or "").strip()
    slot = int(form.slot.data) if (form.slot.data or "").isdigit() else -1
    row = next(r for r in queries.result_rows(draw) if r.task.id == task.id)
    shown = _replace_form(row, {"slot": form.slot.data, "reason": form.reason.data}, draw=draw)
    if not reason:
        apply_errors(shown, {"reason": _("递补抽取必须填写原因")})
        return _ceremony(draw, replace_for=task.public_id, replace_form=shown, status=422)
    try:
        rep = services.replace(current_user, draw, task, slot, reason)
        db.session.commit()
    except DrawError as e:
        db.session.rollback()
        db.session.refresh(draw)
        apply_errors(shown, {FORM: e.message})
        return _ceremony(draw, replace_for=task.public_id, replace_form=shown, status=422)
    return _done(
        draw,
        _(
            "递补抽取完成：%(unit)s 的%(role)s由 %(out)s 改为 %(new)s",
            unit=task.unit.name,
            role=SLOT_ROLE.get(_slot_role(draw, slot), ""),
            out=rep.out_inspector.name if rep.out_inspector else _("（空缺）"),
            new=rep.in_inspector.name,
        ),
    )


def _slot_role(draw: Draw, slot: int) -> str:
    slots = (draw.pool or {}).get("slots", [])
    return slots[slot]["role"] if 0 <= slot < len(slots) else ""


@bp.route("/d/<public_id>/bundle.json")
@login_required
def bundle(public_id: str):
    """The verification bundle at any stage (each secret null before its time: DRAW_SPEC section 1)."""
    draw = _draw_or_404(public_id)
    body = json.dumps(services.bundle(draw), ensure_ascii=False, indent=2)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="draw-{draw.public_id}.json"'},
    )


# ---------------------------------------------------------------------------------------------- tasks


@bp.route("/t/<public_id>")
@login_required
def task(public_id: str):
    t = queries.get_task(public_id)
    if t is None or not access.can_view_task(current_user, t):
        abort(404)
    manage = access.can_manage_task(current_user, t)
    return render(
        "draw/task.html",
        task=t,
        active=sorted(t.active_assignments, key=lambda a: a.slot),
        ended=[a for a in t.assignments if not a.active] if manage else [],
        manage=manage,
    )


def _manual_form_choices(form: ManualTaskForm, items: list, inspectors: list) -> None:
    form.item.choices = choices((i.code, i.current.name) for i in items)
    people = [("", _("请选择"))] + [
        (
            i.public_id,
            _("%(name)s（%(org)s，可任主办）", name=i.name, org=i.org.short_name or i.org.name)
            if i.can_lead
            else _("%(name)s（%(org)s）", name=i.name, org=i.org.short_name or i.org.name),
        )
        for i in inspectors
    ]
    form.lead.choices = choices(people)
    form.assist.choices = choices(people)


@bp.route("/tasks/new", methods=["GET", "POST"])
@supervisor_required
def task_new():
    if not access.can_supervise_cases(current_user):
        abort(404)
    today = calendar.today()
    items = queries.active_items()
    inspectors = queries.selectable_inspectors(current_user)
    if request.method == "POST":
        form = ManualTaskForm()
    else:
        form = ManualTaskForm(formdata=request.args or None, data={"planned_date": today.isoformat()})
    _manual_form_choices(form, items, inspectors)
    unit = queries.unit_for(current_user, (form.unit.data or "").strip())
    if request.method == "GET" and is_htmx() and request.args.get("q") is not None:
        return render(
            "draw/task_form.html",
            block="unit_choices",
            form=form,
            unit=unit,
            matches=queries.search_units(current_user, form.q.data or ""),
        )
    if form.validate_on_submit():
        values, errors = form.parse(today)
        if form.unit.data and unit is None:
            errors["unit"] = _("找不到该检查对象")
        item = queries.get_item(form.item.data or "")
        if item is None or not item.active:
            errors["item"] = _("请选择抽查事项")
        by_id = {i.public_id: i for i in inspectors}
        lead, assist = by_id.get(form.lead.data or ""), by_id.get(form.assist.data or "")
        if form.lead.data and lead is None:
            errors["lead"] = _("请选择主办人员")
        if form.assist.data and assist is None:
            errors["assist"] = _("请选择协办人员")
        if not errors:
            try:
                t = task_services.create_manual_task(
                    current_user,
                    unit=unit,
                    item=item,
                    lead=lead,
                    assist=assist,
                    origin_note=form.origin_note.data,
                    pool=inspector_pool,
                    **values,
                )
                db.session.commit()
            except ServiceError as e:
                db.session.rollback()
                errors[FORM] = e.message
            else:
                flash(_("已创建检查任务（非随机抽取）：%(unit)s", unit=unit.name), "success")
                return after_post(url_for("draw.task", public_id=t.public_id))
        apply_errors(form, errors)
    return render(
        "draw/task_form.html",
        status=422 if request.method == "POST" else 200,
        form=form,
        unit=unit,
        matches=queries.search_units(current_user, form.q.data or ""),
    )
