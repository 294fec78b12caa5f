"""Order numbers from an organisation's pattern: allowed fields, refused patterns in Chinese."""

from __future__ import annotations

import re

import pytest

from webapp.rectification.numbering import NumberingError, format_order_number, validate_order_pattern

PATTERN = "{abbr}消限字〔{year}〕第{seq:04d}号"


def test_order_number_from_pattern():
    assert format_order_number(PATTERN, "偃", 2026, 1) == "偃消限字〔2026〕第0001号"
    assert format_order_number(PATTERN, "偃", 2026, 12345) == "偃消限字〔2026〕第12345号"
    assert format_order_number("{abbr}市监限改〔{year}〕{seq}号", "偃", 2027, 7) == "偃市监限改〔2027〕7号"


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("", "请填写文书编号格式"),
        ("消限字第{seq:04d}号", "必须各包含一次"),  # no year: numbers would repeat every year
        ("{abbr}消限字〔{year}〕", "必须各包含一次"),
        ("{abbr}{seq}〔{year}〕第{seq}号", "必须各包含一次"),
        ("{abbr}消限字〔{year}〕第{seq:04d}号{org}", "不能使用“org”"),
        ("{abbr.__class__}〔{year}〕{seq}", "不能使用“abbr.__class__”"),
        ("{abbr!r}〔{year}〕{seq}", "不能使用"),
        ("{abbr}〔{year}〕第{seq:04d号", "花括号不成对"),
        ("{abbr}〔{year}〕第{seq:04x}号}", "花括号不成对"),
        ("{abbr}〔{year}〕第{seq:.2f}号", None),  # a float spec works on an int: allowed
        ("{abbr}〔{year}〕第{seq:Q}号", "格式写法无效"),
        ("{abbr}" + "字" * 60 + "{year}{seq}", "不能超过60个字符"),
    ],
)
def test_bad_order_patterns_are_refused_in_chinese(pattern, message):
    if message is None:
        assert validate_order_pattern(pattern) == pattern
        return
    with pytest.raises(NumberingError, match=re.escape(message)):
        format_order_number(pattern, "偃", 2026, 1)


def test_order_number_arguments_are_checked():
    with pytest.raises(NumberingError, match="文书简称"):
        format_order_number(PATTERN, " ", 2026, 1)
    with pytest.raises(NumberingError, match="序号"):
        format_order_number(PATTERN, "偃", 2026, 0)
    with pytest.raises(NumberingError, match="年份"):
        format_order_number(PATTERN, "偃", 26, 1)
