"""Bulk import at phone size: a file with one bad row imports nothing and names the row; fixed, it imports."""

from __future__ import annotations

import csv
import io
import random
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.browser import assert_no_horizontal_overflow, assert_touch_targets, login
from webapp.demo import USCC_ALPHABET, make_uscc

# Names no demo unit has, so searching for them finds only what this test imported.
NAMES = ("洛阳市偃师区鹿鸣测试商贸有限公司", "洛阳市偃师区鹤归测试餐饮店", "洛阳市偃师区雁来测试五金店")


def wrong_check_digit(uscc: str) -> str:
    return uscc[:17] + next(c for c in USCC_ALPHABET if c != uscc[17])


def build_csv(header: list[str], usccs: list[str]) -> bytes:
    values = {
        "单位名称": NAMES,
        "统一社会信用代码": usccs,
        "地址": ("洛阳市偃师区商城路1号", "洛阳市偃师区商城路2号", "洛阳市偃师区商城路3号"),
        "所属区域": ("商城街道",) * 3,
        "消防安全责任人": ("张三", "李四", "王五"),
        "联系电话": ("13800138001", "13800138002", "13800138003"),
        "单位类别": ("一般单位", "九小场所", "九小场所"),
        "人员密集场所": ("否",) * 3,
        "风险等级": ("蓝",) * 3,
    }
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    for i in range(len(NAMES)):
        writer.writerow([values[h][i] if h in values else "" for h in header])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def upload(page: Page, base: str, path: Path) -> None:
    page.goto(base + "/registry/units/import")
    page.set_input_files("input[type=file]", str(path))
    with page.expect_navigation():
        page.get_by_role("button", name="上传并校验").click()
    expect(page).to_have_url(re.compile(r"/registry/imports/"))
    # The job runs in the background; the page polls until it has finished.
    expect(page.locator("#job progress")).to_have_count(0, timeout=20_000)


def search(page: Page, base: str, text: str) -> None:
    page.goto(base + "/registry/units")
    page.locator("#q").fill(text)
    expect(page).to_have_url(re.compile(r"[?&]q="))


def test_import_with_a_bad_row_then_fixed(page: Page, live_server, shot, tmp_path):
    login(page, live_server, "supervisor")
    page.goto(live_server + "/registry/units/import")
    expect(page.get_by_role("heading", level=1)).to_contain_text("批量导入")
    assert_no_horizontal_overflow(page)
    assert_touch_targets(page)
    shot("20-import-page")

    # The CSV template's header row, downloaded through the page's link.
    with page.expect_download() as dl:
        page.get_by_role("link", name="下载 CSV 模板").click()
    template = Path(dl.value.path()).read_bytes().decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(template)))
    assert header[:3] == ["单位名称", "统一社会信用代码", "地址"]

    rng = random.Random(20261123)
    usccs = [make_uscc(rng, "92", "410381") for _ in NAMES]
    bad = list(usccs)
    bad[1] = wrong_check_digit(usccs[1])  # data row 2 = spreadsheet row 3 (row 1 is the header)
    bad_file = tmp_path / "单位-有错.csv"
    bad_file.write_bytes(build_csv(header, bad))

    upload(page, live_server, bad_file)
    alert = page.locator("#job .flash-error")
    expect(alert).to_contain_text("未导入任何数据")
    rows = page.locator("table.errors tbody tr")
    expect(rows).to_have_count(1)
    cells = rows.first.locator("td")
    expect(cells.nth(0)).to_have_text("3")
    expect(cells.nth(1)).to_contain_text("统一社会信用代码")
    expect(cells.nth(2)).to_contain_text("校验位")
    assert_no_horizontal_overflow(page)
    assert_touch_targets(page)
    shot("21-import-errors")

    # All or nothing: even the good rows were not imported.
    search(page, live_server, "测试")
    expect(page.locator("#results .empty")).to_be_visible()
    expect(page.locator("#results ul.units")).to_have_count(0)

    good_file = tmp_path / "单位-已改正.csv"
    good_file.write_bytes(build_csv(header, usccs))
    upload(page, live_server, good_file)
    expect(page.locator("#job .flash")).to_contain_text("导入成功：3行已全部导入")
    expect(page.locator("#job dl.facts")).to_contain_text("新增")
    assert_no_horizontal_overflow(page)
    assert_touch_targets(page)
    shot("22-import-done")

    # The new units are in the library and found by search (name and USCC).
    search(page, live_server, "测试")
    for name in NAMES:
        expect(page.locator("#results ul.units .title", has_text=name)).to_have_count(1)
    search(page, live_server, usccs[1])
    expect(page.locator("#results ul.units .title")).to_have_text([NAMES[1]])
    assert_no_horizontal_overflow(page)
    assert_touch_targets(page)
    shot("23-import-found-by-search")
