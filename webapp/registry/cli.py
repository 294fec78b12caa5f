"""``flask import-units --org CODE FILE`` (and ``import-inspectors``): the same import as the web page.

Runs synchronously as the system actor (any organisation may be targeted; matched records of other
organisations are updated in place). Prints the summary, or every error, and exits 1 on errors.
:data:`COMMANDS` is registered by :func:`webapp.cli.register_cli`.
"""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from webapp.auth.models import Organisation
from webapp.extensions import db
from webapp.registry.imports import queries, services
from webapp.registry.imports.readers import ImportFileError


def _run(kind: str, org_code: str, path: str) -> None:
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        org = db.session.execute(select(Organisation).where(Organisation.code == org_code)).scalar_one_or_none()
        if org is None:
            click.echo(_("找不到机构代码：%(code)s", code=org_code), err=True)
            sys.exit(1)
        try:
            job = services.import_file(kind, org, path)
        except ImportFileError as e:
            click.echo(e.message, err=True)
            sys.exit(1)
        errors, warnings = queries.job_entries(job)
        for w in warnings:
            click.echo(_("提示") + f" {_where(w)}{w['message']}")
        if job.status != "done":
            for entry in errors:
                click.echo(f"{_where(entry)}{entry['message']}", err=True)
            click.echo(_("未导入任何数据（%(n)d处错误）", n=len(errors)), err=True)
            sys.exit(1)
        click.echo(
            _(
                "导入完成：%(rows)d行，新增%(c)d，更新%(u)d，无变化%(s)d（%(job)s）",
                rows=job.total_rows,
                c=job.created_count,
                u=job.updated_count,
                s=job.total_rows - job.created_count - job.updated_count,
                job=job.public_id,
            )
        )


def _where(entry: dict) -> str:
    parts = []
    if entry.get("row"):
        parts.append(_("第%(row)d行", row=entry["row"]))
    if entry.get("column"):
        parts.append(f"[{entry['column']}]")
    return (" ".join(parts) + " ") if parts else ""


@click.command("import-units")
@click.option("--org", "org_code", required=True, help="Code of the organisation the units belong to.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_units(org_code: str, file: str) -> None:
    """Import units (检查对象名录库) from an .xlsx or .csv file: all rows or none."""
    _run("units", org_code, file)


@click.command("import-inspectors")
@click.option("--org", "org_code", required=True, help="Code of the organisation the inspectors belong to.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_inspectors(org_code: str, file: str) -> None:
    """Import inspectors (执法检查人员名录库) from an .xlsx or .csv file: all rows or none."""
    _run("inspectors", org_code, file)


COMMANDS: list[click.Command] = [import_units, import_inspectors]
