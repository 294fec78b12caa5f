"""The masking helpers the public site relies on for personal privacy (一公开)."""

from __future__ import annotations

import pytest

from webapp.masking import mask_id_number, mask_name, mask_phone, scrub


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
