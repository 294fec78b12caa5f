"""Field validation for the two libraries, with messages in Chinese (through Flask-Babel)."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from stdnum.cn import uscc as stdnum_uscc

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
PHONE_RE = re.compile(r"^(0\d{2,3}-?)?\d{7,8}(-\d{1,6})?$")
_ORG_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@dataclass(frozen=True)
class Column:
    """One column of an import template and export (units/columns.py, inspectors/columns.py)."""

    field: str
    header: str  # the Chinese column header in import templates and exports
    aliases: tuple[str, ...] = ()
    required: bool = False


def clean_uscc(value: str | None) -> str:
    return stdnum_uscc.compact(value or "").upper()


def uscc_error(value: str | None) -> str | None:
    """None when ``value`` is a valid 统一社会信用代码, else a message saying what is wrong."""
    code = clean_uscc(value)
    if len(code) != 18:
        return str(_l("统一社会信用代码应为18位（当前%(n)d位）", n=len(code)))
    try:
        stdnum_uscc.validate(code)
    except stdnum_uscc.InvalidChecksum:
        return str(_l("统一社会信用代码校验位错误，请核对"))
    except stdnum_uscc.ValidationError:
        return str(_l("统一社会信用代码格式错误（含无效字符）"))
    return None


def phone_error(value: str | None) -> str | None:
    v = (value or "").replace(" ", "")
    if not v or MOBILE_RE.match(v) or PHONE_RE.match(v):
        return None
    return str(_l("电话号码格式错误（手机11位或座机如 0379-67713119）"))


def generate_uscc(rng: random.Random, region: str = "410381") -> str:
    """A syntactically valid USCC (demo data and tests): 9 + type 1, region, org code, check digit."""
    body = "91" + region + "".join(rng.choice(_ORG_CODE_ALPHABET[:10]) for _ in range(8))
    # organisation-code check digit (GB 11714) then the USCC check digit
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c) * w for c, w in zip(body[8:16], weights, strict=True))
    c9 = 11 - total % 11
    body += "X" if c9 == 10 else "0" if c9 == 11 else str(c9)
    return body + stdnum_uscc.calc_check_digit(body)
