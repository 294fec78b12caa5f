"""《行政检查通知书》 for a task: the data shown on the page (亮证) and the PDF (webapp/documents/pdf.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from webapp.inspections.services import TaskContext, points


def notice_data(ctx: TaskContext) -> dict[str, Any]:
    task = ctx.task
    version = task.item_version
    start = (ctx.inspection.checkin_at.date() if ctx.inspection and ctx.inspection.checkin_at else None) or (
        task.planned_date
    )
    content = version.name + "：" + "；".join(p.text for p in points(ctx))
    return {
        "issuing_org": task.draw.org.name if task.draw else _org_name(task),
        "unit_name": task.unit.name,
        "unit_address": task.unit.address or "",
        "basis": version.basis,
        "content": content,
        "period_start": start,
        "period_end": max(start, task.planned_date),
        "issue_date": start,
        "inspectors": [
            {
                "name": a.inspector.name,
                "organisation": a.inspector.org.name,
                "certificate_no": a.inspector.cert_no or "",
                "cert_valid_until": a.inspector.cert_valid_until,
                "role": a.role,
            }
            for a in task.active_assignments
        ],
    }


def _org_name(task) -> str:
    from webapp.auth.models import Organisation
    from webapp.extensions import db

    org = db.session.get(Organisation, task.org_id)
    return org.name if org else ""


def notice_pdf(ctx: TaskContext) -> bytes | None:
    """PDF bytes, or None when the notice module is not available or the data is incomplete."""
    try:
        from webapp.documents import pdf as notices
    except ImportError:  # pragma: no cover - module provided by another part of issue 4
        return None
    d = notice_data(ctx)
    data = notices.InspectionNotice(
        issuing_org=d["issuing_org"],
        unit_name=d["unit_name"],
        basis=d["basis"],
        content=d["content"],
        period_start=d["period_start"],
        period_end=d["period_end"],
        inspectors=[
            notices.Inspector(name=i["name"], organisation=i["organisation"], certificate_no=i["certificate_no"])
            for i in d["inspectors"]
        ],
        issue_date=d["issue_date"] or dt.date.today(),
        unit_address=d["unit_address"],
    )
    try:
        return notices.inspection_notice_pdf(data)
    except notices.NoticeError:
        return None
