"""The files an import hands out: the template of a library (.xlsx with a “填写说明” sheet, or .csv) and the
error workbook of a failed job (its bad rows as uploaded, with the errors in front: fix and re-upload)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from flask_babel import gettext as _

from webapp import storage, xlsx
from webapp.registry.imports.kinds import ImportKind, get_kind, rules_text
from webapp.registry.imports.queries import job_entries
from webapp.registry.imports.readers import cell_text, match_header, read_table
from webapp.registry.imports.services import errors_object, job_upload
from webapp.registry.models import ImportJob

ERROR_COLUMN = "错误说明"
ROW_COLUMN = "原行号"


def template_xlsx(kind: ImportKind) -> IO[bytes]:
    """The import template: header row + one example row, and a sheet “填写说明” on each column."""
    rows: list[list[Any]] = [[c.header for c in kind.columns]]
    if kind.example:
        rows.append(list(kind.example))
    help_rows: list[list[Any]] = [[_("列名"), _("必填"), _("也可写作"), _("填写要求")]]
    for c in kind.columns:
        help_rows.append(
            [c.header, _("是") if c.required else _("否"), "、".join(c.aliases), str(kind.notes.get(c.field, ""))]
        )
    help_rows.append([])
    help_rows.extend([line] for line in rules_text(kind))
    return xlsx.workbook([(str(kind.title), rows), ("填写说明", help_rows)])


def template_csv(kind: ImportKind) -> bytes:
    """The same template as CSV, UTF-8 with BOM so Excel shows the Chinese correctly."""
    rows: list[Any] = [[c.header for c in kind.columns]]
    if kind.example:
        rows.append(kind.example)
    return xlsx.csv_bytes(rows)


def errors_xlsx(job: ImportJob) -> IO[bytes] | None:
    """The bad rows of a failed job, as uploaded, with the errors in an extra column (fix and re-upload): kept
    in storage when the job ended (its upload is deleted then), or built from the upload while it is there."""
    name = errors_object(job)
    if storage.object_exists(name):
        return storage.open_object(name)
    return build_errors_xlsx(job)


def build_errors_xlsx(job: ImportJob) -> IO[bytes] | None:
    """The error workbook built from the job's upload (None: no row errors, or the upload is gone)."""
    errors, _warnings = job_entries(job)
    by_row: dict[int, list[str]] = {}
    for e in errors:
        if e.get("row"):
            by_row.setdefault(e["row"], []).append(f"{e['column']}：{e['message']}" if e["column"] else e["message"])
    name = job_upload(job)
    if not by_row or not storage.object_exists(name):
        return None
    kind = get_kind(job.kind)
    header_row = min(by_row)

    with storage.local_copy(name) as path:  # the workbook is written before the copy goes

        def rows() -> Iterator[list[Any]]:
            header_written = False
            for number, cells in read_table(str(path), job.filename):
                is_header = not header_written and not match_header(kind.columns, cells, number).missing
                if is_header or (not header_written and number >= header_row):
                    yield [ERROR_COLUMN, ROW_COLUMN, *(cell_text(c) for c in cells)]
                    header_written = True
                    if is_header:
                        continue
                if number in by_row:
                    yield ["；".join(by_row[number]), number, *(cell_text(c) for c in cells)]

        return xlsx.workbook([(_("错误行"), rows())])
