"""Masking of personal data for the public site (一公开: personal privacy is protected).

Plain functions, no Flask: names (王*锋, 王*), mobile and landline numbers (138****1188), ID numbers
(110101********1234), and free text that may mention any of them (``scrub``): the people the database knows
(a :class:`Names`, loaded by ``webapp.inspections.people``), names typed after a cue word (联系人、经理 …)
even when nobody registered them, phone and ID patterns. The public site shows only these.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

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


class Names:
    """Known personal names, matched in one pass over a text, longest first (never half of a longer name).

    Built once per request from the people the database knows (see ``webapp.inspections.people``) and
    combined cheaply with ``|``: the sets are shared, not copied. Names shorter than two characters are
    ignored; a Latin name ("Li Na") matches only as a whole word.
    """

    __slots__ = ("_first", "_lengths", "_sets")

    def __init__(self, names: Iterable[str] = ()) -> None:
        found = frozenset(n for n in (_normal(x) for x in names) if len(n) >= 2)
        self._sets: tuple[frozenset[str], ...] = (found,) if found else ()
        self._lengths = tuple(sorted({len(n) for n in found}, reverse=True))
        self._first = frozenset(n[0] for n in found)

    @classmethod
    def of(cls, names: Names | Iterable[str]) -> Names:
        return names if isinstance(names, Names) else cls(names)

    def __or__(self, other: Names | Iterable[str]) -> Names:
        other = Names.of(other)
        out = Names()
        out._sets = self._sets + tuple(s for s in other._sets if s not in self._sets)
        out._lengths = tuple(sorted(set(self._lengths) | set(other._lengths), reverse=True))
        out._first = self._first | other._first
        return out

    def __contains__(self, name: object) -> bool:
        return any(name in s for s in self._sets)

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for s in self._sets:
            yield from s - seen
            seen |= s

    def __len__(self) -> int:
        return len(set().union(*self._sets)) if self._sets else 0

    def __bool__(self) -> bool:
        return bool(self._sets)

    def mask(self, text: str) -> str:
        """``text`` with every known name replaced by its masked form (``mask_name``)."""
        if not self._sets or not text:
            return text
        out: list[str] = []
        i, n = 0, len(text)
        while i < n:
            if text[i] in self._first:
                for length in self._lengths:
                    if i + length > n:
                        continue
                    candidate = text[i : i + length]
                    if candidate in self and _whole(text, i, length, candidate):
                        out.append(mask_name(candidate))
                        i += length
                        break
                else:
                    out.append(text[i])
                    i += 1
            else:
                out.append(text[i])
                i += 1
        return "".join(out)


def _normal(name: str | None) -> str:
    name = (name or "").strip()
    return " ".join(name.split()) if " " in name or "\t" in name else name


def _whole(text: str, start: int, length: int, name: str) -> bool:
    """A Latin name must not be part of a longer word ("Li" in "Lighting"); Chinese names have no word breaks."""
    if not name.isascii():
        return True
    before = text[start - 1] if start > 0 else " "
    after = text[start + length] if start + length < len(text) else " "
    return not (before.isascii() and before.isalnum()) and not (after.isascii() and after.isalnum())


# Names nobody registered, typed after a cue word: "联系人：李小红", "经理陈国栋", "负责人为张三".
# Only when a common surname follows, and its given name is masked: whether the name has two or three
# characters, hiding the one after the surname gives what ``mask_name`` gives (王*, 王*锋), so the length
# of the name never has to be guessed. Titles (李经理, 王女士, 张某) are not names and stay.
_CUES = (
    "法定代表人|法人代表|法人|代表人|消防安全责任人|消防安全管理人|安全管理人|安全责任人|安全员|联系人|负责人|责任人|"
    "管理人|管理员|总经理|经理|店长|厂长|老板|老板娘|主任|业主|户主|房东|租户|承租人|姓名|名叫|名为|员工|职工|店员|"
    "保安|值班员|值班人员|电工|焊工|工作人员|随同人员|陪同人员|签字人|签收人|见证人|当事人|监督员|操作员|驾驶员"
)
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈任姚卢姜崔钟"
    "谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔汤"
    "易乔赖文洪牛樊葛邢殷柴岳庞甘祝牟骆宁冉欧季施凌章包鲁阎苗霍耿卫温蒙申颜翟倪聂左柳"
    "谷佟吉裴纪焦鲍邬路俞景姬阮宫祁褚解饶尚桂鞠高"
)
_COMPOUND = "欧阳|司马|诸葛|上官|东方|皇甫|尉迟|公孙|慕容|长孙|宇文|司徒|夏侯|令狐|澹台|呼延|端木|独孤|南宫|西门"
_TITLES = ("某", "经理", "老板", "主任", "师傅", "先生", "女士", "小姐", "总", "工", "姐", "哥")
# Words that begin with a surname character but are no name: "负责人高度重视", "负责人张贴告示".
_WORDS = tuple(
    re.findall(r"\S+", "高度 方面 白天 马上 任何 任务 文件 许可 万元 张贴 曾经 严格 严重 孔洞 金属 钟表 石材 黄色")
)
_CUED = re.compile(
    rf"(?P<cue>{_CUES})(?P<sep>\s*[:：]?\s*(?:为|是|系|叫)?\s*[:：]?\s*)"
    rf"(?P<surname>{_COMPOUND}|[{_SURNAMES}])(?P<given>[\u4e00-\u9fff])(?P<third>[\u4e00-\u9fff]?)"
)


def _mask_cued(m: re.Match[str]) -> str:
    if m.string.startswith(_TITLES, m.start("given")) or m.string.startswith(_WORDS, m.start("surname")):
        return m.group(0)
    surname, third = m.group("surname"), m.group("third")
    if len(surname) == 2 and third:  # 欧阳小锋 → 欧**锋, as mask_name does
        return m.group("cue") + m.group("sep") + surname[0] + MASK * 2 + third
    return m.group("cue") + m.group("sep") + surname + MASK + third


def mask_cued_names(text: str) -> str:
    """Names following a cue word (联系人、负责人、经理、姓名 …) masked even when nobody registered them."""
    return _CUED.sub(_mask_cued, text) if text else text


def scrub(text: str | None, names: Names | Iterable[str] = ()) -> str:
    """Free text (a reason typed by a supervisor, a finding) with personal names, phones and ID numbers masked.

    ``names`` are the people the text may mention (a :class:`Names` of everyone the database knows around the
    record, or a plain list); they are matched longest first so "王小锋" is not half-replaced by "王小". Names
    given after a cue word are masked too (``mask_cued_names``).
    """
    text = Names.of(names).mask(text or "")
    text = mask_cued_names(text)
    text = _ID18.sub(lambda m: m.group(1) + MASK * 8 + m.group(3), text)
    text = _MOBILE.sub(lambda m: m.group(1) + MASK * 4 + m.group(3), text)
    text = _ID15.sub(lambda m: m.group(1) + MASK * 6 + m.group(3), text)
    text = _LANDLINE.sub(lambda m: m.group(1) + "-" + MASK * len(m.group(2)) + m.group(3), text)
    return text
