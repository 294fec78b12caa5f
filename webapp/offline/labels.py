"""Chinese names of the form fields a queued change may carry (the ledger's difference message), one table."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

FIELD_LABELS = {
    "answer": _l("检查结论"),
    "note": _l("备注"),
    "text": _l("问题描述"),
    "legal_basis": _l("法律依据"),
    "point_id": _l("检查项"),
    "result": _l("检查结果"),
    "category": _l("公示结果类别"),
    "remarks": _l("备注"),
    "signer": _l("签字人"),
    "signer_name": _l("签字人姓名"),
    "strokes": _l("签名笔迹"),
    "seen": _l("签字时屏幕内容"),
    "reason": _l("补充原因"),
    "photo": _l("照片"),
    "exif": _l("照片拍摄信息"),
    "lat": _l("纬度"),
    "lon": _l("经度"),
    "accuracy": _l("定位精度"),
    "location_error": _l("定位失败原因"),
    "device_time": _l("手机时间"),
    "offline": _l("离线记录"),
    "client_uuid": _l("记录编号"),
}

# the supervisors' import: the outcome of one entry
IMPORT_APPLIED = _l("已同步")
IMPORT_EXISTING = _l("已存在")
IMPORT_REFUSED = _l("未被接受")


def field_label(name: str) -> str:
    """The Chinese name of a form field; a name without one is shown as it is."""
    label = FIELD_LABELS.get(name)
    return str(label) if label is not None else name
