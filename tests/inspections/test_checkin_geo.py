"""Check-in against the unit's stored position: the distance shown, a far check-in needs a reason (per the
organisation's radius), navigation links in the map apps' datums, Chinese location messages, 我的任务's 进行中."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from tests.helpers import login, new_uuid
from webapp.admin.models import OrgCheckinSettings
from webapp.audit import AuditEvent
from webapp.auth.models import Organisation
from webapp.inspections import checkin, geo, services
from webapp.inspections.checkin import CheckinPlace
from webapp.inspections.models import Inspection
from webapp.inspections.record import InspectionError

UNIT = (34.7272, 112.7878)  # the scene's unit, WGS-84
NEAR = (34.7290, 112.7878)  # ~200 m north
FAR = (34.7452, 112.7878)  # ~2 km north


def _url(scene, name=""):
    return f"/inspections/tasks/{scene.task.public_id}{name}"


def _place_unit(db, scene, lat=UNIT[0], lon=UNIT[1]):
    scene.task.unit.latitude, scene.task.unit.longitude = lat, lon
    db.session.commit()


def _record(db, scene) -> Inspection | None:
    db.session.expire_all()
    return db.session.execute(select(Inspection).where(Inspection.task_id == scene.task.id)).scalar_one_or_none()


def _start(client, scene, pos, **extra):
    data = {"client_uuid": new_uuid(), "lat": str(pos[0]), "lon": str(pos[1]), "accuracy": "15", **extra}
    return client.post(_url(scene, "/start"), data=data)


# ------------------------------------------------------------------------------------ the conversions


@pytest.mark.parametrize(
    ("wgs", "gcj"),
    [  # the reference points of the usual published implementation (eviltransform's tests)
        ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),  # Shanghai
        ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),  # Shenzhen
        ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),  # Beijing
    ],
)
def test_wgs84_to_gcj02_matches_the_reference_points(wgs, gcj):
    lat, lon = geo.wgs84_to_gcj02(*wgs)
    assert lat == pytest.approx(gcj[0], abs=1e-9) and lon == pytest.approx(gcj[1], abs=1e-9)


def test_gcj02_to_bd09_matches_baidus_example_and_outside_china_is_unchanged():
    lat, lon = geo.gcj02_to_bd09(39.915, 116.404)  # Baidu's documented example (Tiananmen)
    assert lat == pytest.approx(39.92133699351021, abs=1e-9) and lon == pytest.approx(116.41036949371029, abs=1e-9)
    assert geo.wgs84_to_gcj02(48.8584, 2.2945) == (48.8584, 2.2945)  # Paris: no shift outside China


def test_distance_in_metres():
    assert geo.distance_m(*UNIT, *UNIT) == 0
    assert geo.distance_m(0, 0, 1, 0) == pytest.approx(111_195, rel=1e-3)  # one degree of latitude
    assert geo.distance_m(*UNIT, *NEAR) == pytest.approx(200, abs=5)
    assert geo.distance_m(*UNIT, *FAR) == pytest.approx(2000, abs=10)


# ---------------------------------------------------------------------------------------- the radius


def test_radius_defaults_to_500_m_and_an_organisation_or_its_parent_may_set_another(db, tree):
    assert checkin.radius_for(tree.dadui.id) == geo.DEFAULT_RADIUS_M == 500
    db.session.add(OrgCheckinSettings(org_id=tree.zhidui.id, radius_m=800))
    db.session.flush()
    assert checkin.radius_for(tree.dadui.id) == 800  # the 大队 takes its 支队's
    db.session.add(OrgCheckinSettings(org_id=tree.dadui.id, radius_m=300))
    db.session.flush()
    assert checkin.radius_for(tree.dadui.id) == 300


def test_admin_sets_the_radius_on_the_organisation_page_audited(client, db, tree, admin):
    login(client, "root")
    org = tree.dadui
    page = client.get(f"/admin/orgs/{org.id}").get_data(as_text=True)
    assert "签到范围（米）" in page and "当前生效：500米" in page
    data = {"name": org.name, "kind": org.kind.value, "dept": org.dept, "parent_id": str(org.parent_id or "")}
    resp = client.post(f"/admin/orgs/{org.id}", data={**data, "checkin_radius": "20"})
    assert resp.status_code == 422 and "签到范围须在50至50000米之间" in resp.get_data(as_text=True)
    resp = client.post(f"/admin/orgs/{org.id}", data={**data, "checkin_radius": "1000"})
    assert resp.status_code in (302, 303)
    assert checkin.radius_for(org.id) == 1000
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "org.updated").order_by(AuditEvent.id.desc())
    ).scalar_one()
    assert event.payload["checkin_radius"] == [None, 1000]
    client.post(f"/admin/orgs/{org.id}", data={**data, "checkin_radius": ""})  # empty: back to the default
    assert checkin.radius_for(org.id) == 500


# --------------------------------------------------------------------------------------- the check-in


def test_far_check_in_without_a_reason_is_refused_in_chinese_next_to_the_field(client, db, scene):
    _place_unit(db, scene)
    login(client, "lead")
    resp = _start(client, scene, FAR, offline="1")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "签到位置距单位登记位置约" in body and "超过500米，请填写原因" in body
    assert 'id="far_reason-err" role="alert"' in body and 'aria-invalid="true"' in body
    assert _record(db, scene) is None  # nothing stored: the outbox shows the refusal


def test_far_check_in_with_a_reason_is_kept_shown_and_audited(client, db, scene):
    _place_unit(db, scene)
    ctx = services.task_context(scene.lead, scene.task.public_id)
    with pytest.raises(InspectionError) as refused:
        services.start(scene.lead, ctx, new_uuid(), lat=FAR[0], lon=FAR[1], far_reason=" ")
    assert "far_reason" in refused.value.errors
    services.start(scene.lead, ctx, new_uuid(), lat=FAR[0], lon=FAR[1], far_reason="单位已搬迁至新厂区")
    db.session.commit()
    insp = _record(db, scene)
    place = db.session.execute(select(CheckinPlace).where(CheckinPlace.inspection_id == insp.id)).scalar_one()
    assert place.far_reason == "单位已搬迁至新厂区" and place.radius_m == 500
    assert place.distance_m == pytest.approx(2000, abs=10) and (place.unit_lat, place.unit_lon) == UNIT
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "inspection.start")).scalar_one()
    assert event.payload["far"] is True and event.payload["far_reason"] == "单位已搬迁至新厂区"
    assert event.payload["distance_m"] == pytest.approx(2000, abs=10) and event.payload["radius_m"] == 500
    login(client, "lead")
    record = client.get(_url(scene, "/record")).get_data(as_text=True)
    assert "距单位登记位置约2.0公里" in record and "超出签到范围500米" in record
    assert "单位已搬迁至新厂区" in record
    task = client.get(_url(scene)).get_data(as_text=True)
    assert "距单位登记位置约2.0公里" in task


def test_near_check_in_needs_no_reason_and_shows_the_distance(client, db, scene):
    _place_unit(db, scene)
    login(client, "lead")
    assert _start(client, scene, NEAR).status_code == 303
    record = client.get(_url(scene, "/record")).get_data(as_text=True)
    assert "距单位登记位置约200米" in record and "超出签到范围" not in record


def test_the_organisations_radius_decides(client, db, scene):
    _place_unit(db, scene)
    db.session.add(OrgCheckinSettings(org_id=scene.task.org_id, radius_m=3000))
    db.session.commit()
    login(client, "lead")
    page = client.get(_url(scene)).get_data(as_text=True)
    assert 'data-radius="3000"' in page and f'data-unit-lat="{UNIT[0]}"' in page
    assert _start(client, scene, FAR).status_code == 303  # 2 km is inside 3 km


def test_check_in_without_position_or_unit_coordinates_needs_no_reason(client, db, scene):
    login(client, "lead")
    assert _start(client, scene, FAR).status_code == 303  # the unit has no coordinates
    assert db.session.execute(select(CheckinPlace)).first() is None


def test_the_browsers_english_message_never_reaches_the_record(client, db, scene):
    login(client, "lead")
    client.post(_url(scene, "/start"), data={"client_uuid": new_uuid(), "location_error": "Position unavailable xyz"})
    note = _record(db, scene).location_note
    assert note == "定位被拒绝或不可用" and not any("a" <= ch.lower() <= "z" for ch in note)


# ---------------------------------------------------------------------------------------- map links


def _links(page: str) -> dict[str, str]:
    import re

    return {
        m.group(2): m.group(1).replace("&amp;", "&") for m in re.finditer(r'href="([^"]+)"[^>]*data-map="(\w+)"', page)
    }


def test_task_page_navigates_with_the_coordinates_in_each_apps_datum(client, db, scene):
    _place_unit(db, scene)
    login(client, "lead")
    links = _links(client.get(_url(scene)).get_data(as_text=True))
    glat, glon = geo.wgs84_to_gcj02(*UNIT)
    blat, blon = geo.gcj02_to_bd09(glat, glon)
    amap = parse_qs(urlsplit(links["amap"]).query)
    assert links["amap"].startswith("https://uri.amap.com/navigation?")
    assert amap["to"] == [f"{glon:.6f},{glat:.6f},洛阳好运来超市"] and amap["coordinate"] == ["gaode"]
    baidu = parse_qs(urlsplit(links["baidu"]).query)
    assert baidu["location"] == [f"{blat:.6f},{blon:.6f}"] and baidu["coord_type"] == ["bd09ll"]
    tencent = parse_qs(urlsplit(links["tencent"]).query)
    assert tencent["tocoord"] == [f"{glat:.6f},{glon:.6f}"]
    assert abs(glat - UNIT[0]) > 1e-4  # really shifted, not the raw WGS-84 figures


def test_without_coordinates_the_apps_search_the_address(client, db, scene):
    login(client, "lead")
    links = _links(client.get(_url(scene)).get_data(as_text=True))
    assert links["amap"].startswith("https://uri.amap.com/search?keyword=")
    assert parse_qs(urlsplit(links["baidu"]).query)["address"] == ["偃师区商都路18号"]
    assert parse_qs(urlsplit(links["tencent"]).query)["keyword"] == ["偃师区商都路18号"]


# ---------------------------------------------------------------------------------------- 我的任务


def test_my_tasks_marks_a_started_unsubmitted_record_in_progress(client, db, scene):
    login(client, "lead")
    page = client.get("/me").get_data(as_text=True)
    assert "data-in-progress" not in page
    client.post(_url(scene, "/start"), data={"client_uuid": new_uuid(), "location_error": "denied"})
    page = client.get("/me").get_data(as_text=True)
    assert "data-in-progress" in page and "进行中" in page
    assert db.session.get(Organisation, scene.task.org_id) is not None
