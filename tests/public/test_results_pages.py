"""The public results (抽查结果公示): search, categories, masking, rectification and penalties."""

from __future__ import annotations

from tests.factories import USCC, add_inspection, build_public_world, run_draw
from webapp.inspections.models import PublishedCategory


def test_a_result_shows_category_problems_rectification_and_penalty_masked(client, db, results):
    resp = client.get("/public/results")
    assert resp.status_code == 200 and "Set-Cookie" not in resp.headers and resp.headers["ETag"]
    body = resp.get_data(as_text=True)
    assert "偃师公开结果商贸有限公司" in body and USCC in body and "2026-11-20" in body
    assert "发现问题已责令改正" in body and "未发现问题" in body
    assert "疏散通道堆放杂物" in body and "灭火器压力不足" in body
    assert "逾期未改正" in body and "偃消行罚决字〔2026〕0012号" in body and "2026-12-03" in body
    for secret in ("赵建华", "王小锋", "李四海", "13812341188"):
        assert secret not in body
    assert "合格" not in body.replace("不合格", "")  # never 合格/不合格
    assert "不合格" not in body


def test_search_by_unit_name_or_uscc(client, db, results):
    by_name = client.get("/public/results", query_string={"q": "五金店"}).get_data(as_text=True)
    assert "偃师另一家五金店" in by_name and "偃师公开结果商贸有限公司" not in by_name
    by_code = client.get("/public/results", query_string={"q": USCC.lower()}).get_data(as_text=True)
    assert "偃师公开结果商贸有限公司" in by_code and "偃师另一家五金店" not in by_code
    nothing = client.get("/public/results", query_string={"q": "不存在的单位%"}).get_data(as_text=True)
    assert "没有找到符合条件的检查结果" in nothing


def test_drafts_and_results_of_unpublished_draws_stay_hidden_until_publication(client, db):
    world = build_public_world()
    draw = run_draw(world, publish=False)
    task = draw.tasks[0]
    add_inspection(task, category=PublishedCategory.UNREACHABLE)
    add_inspection(draw.tasks[1], category=PublishedCategory.NON_COOPERATION, submitted=False)
    db.session.commit()
    first = client.get("/public/results")
    assert "通过登记的住所（经营场所）无法联系" not in first.get_data(as_text=True)
    from webapp.draw import services

    services.publish(world.supervisor, draw)
    db.session.commit()
    again = client.get("/public/results", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200
    body = again.get_data(as_text=True)
    assert "通过登记的住所（经营场所）无法联系" in body and task.unit.name in body
    assert "不配合检查情节严重" not in body


def test_a_superseded_record_is_replaced_by_its_supplement(client, db, results):
    newer = add_inspection(results.public.task, category=PublishedCategory.PENDING_FOLLOWUP)
    newer.supersedes_id = results.public.id
    db.session.commit()
    body = client.get("/public/results", query_string={"q": USCC}).get_data(as_text=True)
    assert "发现问题待后续处理" in body and "发现问题已责令改正" not in body


def test_results_revalidate_with_304(client, db, results):
    first = client.get("/public/results")
    assert client.get("/public/results", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
