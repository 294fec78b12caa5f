"""The masking helpers the public site relies on for personal privacy (一公开)."""

from __future__ import annotations

import pytest

from webapp.masking import Names, mask_id_number, mask_name, mask_phone, scrub


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("王小锋", "王*锋"),
        ("王锋", "王*"),
        ("欧阳小锋", "欧**锋"),
        ("王", "*"),
        ("  李明  ", "李*"),
        ("阿卜杜·热依木", "阿*杜·热*木"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812341188", "138****1188"),
        ("138-1234-1188", "138****1188"),
        ("+86 138 1234 1188", "138****1188"),
        ("0379-67812345", "********2345"),
        ("123", "***"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("110101199003071234", "110101********1234"),
        ("11010119900307123X", "110101********123X"),
        ("110101900307123", "110101******123"),
        ("豫A1234567", "*****4567"),
        ("", ""),
    ],
)
def test_mask_id_number(number, masked):
    assert mask_id_number(number) == masked
    assert "19900307" not in mask_id_number(number)


def test_scrub_masks_known_names_phones_and_id_numbers_in_free_text():
    text = "王小锋请病假，联系电话13812341188，身份证110101199003071234；王小同去；座机0379-6781234"
    out = scrub(text, ["王小锋", "王小"])
    assert "王小锋" not in out and "王*锋" in out
    assert "13812341188" not in out and "138****1188" in out
    assert "199003071234" not in out and "110101********1234" in out
    assert "6781234" not in out and "0379-***1234" in out


def test_scrub_leaves_ordinary_text_and_dates_alone():
    text = "2026-12-07 因参加培训无法到场，第2岗"
    assert scrub(text, ["张伟"]) == text


def test_known_names_are_matched_longest_first_in_one_pass():
    names = Names(["王小锋"]) | ["王小", "小锋", "  ", "王", None]
    assert "王小" in names and "王" not in names and len(names) == 3
    assert scrub("王小锋与王小同去，小锋随后", names) == "王*锋与王*同去，小*随后"


def test_latin_names_match_whole_words_only():
    assert scrub("Li Na checked the Lighting with Li", ["Li", "Li Na"]) == "L* N* checked the Lighting with L*"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("联系人：李小红，电话13812341188", "联系人：李*红，电话138****1188"),
        ("经理陈国栋未签字", "经理陈*栋未签字"),
        ("负责人为张三，现场整改", "负责人为张*，现场整改"),
        ("总经理欧阳小锋到场", "总经理欧**锋到场"),
        ("姓名 王芳", "姓名 王*"),
    ],
)
def test_names_after_cue_words_are_masked_even_when_unknown(text, masked):
    out = scrub(text)
    assert out == masked
    assert scrub(out) == out  # masking twice changes nothing


@pytest.mark.parametrize(
    "text",
    [
        "负责人未到场",
        "负责人李经理称已整改",
        "联系人张某拒绝签字",
        "负责人高度重视，经理室堆放杂物",
        "员工宿舍设在仓库内",
        "联系人电话无法接通",
    ],
)
def test_cue_words_without_a_name_leave_the_text_alone(text):
    assert scrub(text) == text


def test_a_known_name_after_a_cue_word_is_masked_once():
    assert scrub("联系人李小红称", ["李小红"]) == "联系人李*红称"
