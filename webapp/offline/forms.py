"""The supervisors' import form (an exported outbox file)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired


class ImportForm(FlaskForm):
    file = FileField(_l("未同步数据文件（.json）"), validators=[FileRequired(_l("请选择要导入的文件"))])
