"""Reading import jobs: the job a user may see, their recent jobs, the errors and warnings stored on a job."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from webapp.auth import access
from webapp.auth.access import visible_org_ids
from webapp.auth.models import Organisation
from webapp.extensions import db
from webapp.registry.models import ImportJob


def get_job(user: Any, public_id: str) -> ImportJob | None:
    """The job if the user may see it (its organisation is theirs to manage), else None (→ 404).

    A job whose worker is gone is still shown as running here: the view asks
    :func:`webapp.registry.imports.services.fail_stuck_jobs` (a write).
    """
    job = db.session.execute(select(ImportJob).where(ImportJob.public_id == public_id)).scalar_one_or_none()
    if job is None or not access.can_view_import(user, job):
        return None
    return job


def recent_jobs(user: Any, kind: str, limit: int = 10) -> list[ImportJob]:
    stmt = select(ImportJob).where(ImportJob.kind == kind).order_by(ImportJob.id.desc()).limit(limit)
    ids = visible_org_ids(user)
    if ids is not None:
        stmt = stmt.where(ImportJob.org_id.in_(sorted(ids)))
    return list(db.session.execute(stmt).scalars())


def job_org_name(job: ImportJob) -> str:
    org = db.session.get(Organisation, job.org_id)
    return org.name if org else ""


def job_entries(job: ImportJob) -> tuple[list[dict], list[dict]]:
    """``(errors, warnings)`` stored on the job."""
    entries = json.loads(job.errors) if job.errors else []
    errors = [e for e in entries if e.get("level") != "warning"]
    warnings = [e for e in entries if e.get("level") == "warning"]
    return errors, warnings
