"""The one label table of the trace's codes (满意度, the inspection's state on the public page)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# 满意度 1–5
SCORE_LABELS = {
    5: _l("非常满意"),
    4: _l("满意"),
    3: _l("基本满意"),
    2: _l("不满意"),
    1: _l("非常不满意"),
}
# the inspection as the public page states it
STATE_LABELS = {
    "in_progress": _l("检查进行中"),
    "finished": _l("检查已结束"),
    "cancelled": _l("检查任务已取消"),
}
# the unit's answer to "did the inspectors come?" (the rating form's ``visit``)
VISIT_LABELS = {
    "yes": _l("是，到本单位进行了检查"),
    "no": _l("否，没有到本单位检查"),
}
# 12345: the national government service hotline, which takes complaints about administrative inspections
HOTLINE = "12345"


def trace_globals() -> dict:
    return {"SCORE_LABELS": SCORE_LABELS, "TRACE_STATE": STATE_LABELS}
