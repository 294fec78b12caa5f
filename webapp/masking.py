"""Masking of personal data for the public site (一公开: personal privacy is protected).

Plain functions, no Flask: names (王*锋, 王*), mobile and landline numbers (138****1188), ID numbers
(110101********1234), and free text that may mention any of them. The public site shows only these.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "*"

# Mainland mobile numbers, optionally with +86 / 86 and separators: 138 1234 1188, 138-1234-1188.
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[-\s]?)?(1[3-9]\d)[-\s]?(\d{4})[-\s]?(\d{4})(?!\d)")
# Resident ID numbers: 18 characters (17 digits and a digit or X) or the old 15 digits.
_ID18 = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])")
_ID15 = re.compile(r"(?<!\d)(\d{6})(\d{6})(\d{3})(?!\d)")
# Landlines: 0379-6781234, 010-12345678.
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[-\s]?(\d{3,4})(\d{4})(?!\d)")


def mask_name(name: str | None) -> str:
    """王小锋 → 王*锋; 王锋 → 王*; 欧阳小锋 → 欧**锋; a Latin name keeps its first and last letter."""
    name = (name or "").strip()
    if not name:
        return ""
    if " " in name or "·" in name:  # "Zhang San", "阿卜杜·热依木": mask each part
        sep = " " if " " in name else "·"
        return sep.join(mask_name(part) for part in name.split(sep) if part)
    if len(name) == 1:
        return MASK
    if len(name) == 2:
        return name[0] + MASK
    return name[0] + MASK * (len(name) - 2) + name[-1]


def mask_phone(phone: str | None) -> str:
    """13812341188 → 138****1188; a landline keeps its area code and last four digits."""
    phone = (phone or "").strip()
    if not phone:
        return ""
    digits = re.sub(r"\D", "", phone)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if len(digits) == 11 and digits[0] == "1":
        return digits[:3] + MASK * 4 + digits[-4:]
    if len(digits) > 4:
        return MASK * (len(digits) - 4) + digits[-4:]
    return MASK * len(digits)


def mask_id_number(number: str | None) -> str:
    """110101199003071234 → 110101********1234 (the birth date hidden); anything else keeps only 4 characters."""
    number = (number or "").strip()
    if not number:
        return ""
    if len(number) == 18:
        return number[:6] + MASK * 8 + number[-4:]
    if len(number) == 15:
        return number[:6] + MASK * 6 + number[-3:]
    if len(number) > 4:
        return MASK * (len(number) - 4) + number[-4:]
    return MASK * len(number)


def scrub(text: str | None, names: Iterable[str] = ()) -> str:
    """Free text (a reason typed by a supervisor) with the given personal names, phones and ID numbers masked.

    ``names`` are the people the text may mention (inspectors and witnesses of the draw); longer names are
    replaced first so "王小锋" is not half-replaced by "王小".
    """
    text = text or ""
    for name in sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True):
        if len(name) >= 2:
            text = text.replace(name, mask_name(name))
    text = _ID18.sub(lambda m: m.group(1) + MASK * 8 + m.group(3), text)
    text = _MOBILE.sub(lambda m: m.group(1) + MASK * 4 + m.group(3), text)
    text = _ID15.sub(lambda m: m.group(1) + MASK * 6 + m.group(3), text)
    text = _LANDLINE.sub(lambda m: m.group(1) + "-" + MASK * len(m.group(2)) + m.group(3), text)
    return text
