"""Where the check-in was made, against the unit's stored position: distance, the organisation's radius, the
reason a far check-in needs, and the map links of the task and record pages.

The rule (one place): a check-in whose position and the unit's coordinates are both known, and which lies more
than the organisation's radius (``radius_for``) from the unit, needs a reason; the server refuses it without one
(services.start), the page's script asks for it before sending (static/js/checkin.js, from the same figures the
task page gives it). Positions are WGS-84 (see webapp.inspections.geo).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Float, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.admin.models import OrgCheckinSettings
from webapp.auth.models import Organisation
from webapp.db import created_at, intpk
from webapp.extensions import Model, db
from webapp.inspections import geo
from webapp.inspections.models import Inspection
from webapp.tasks.models import Task

MAX_REASON = 500
# the map apps of the navigation links (webapp.inspections.geo.map_links)
MAP_APPS = {"amap": _l("高德导航"), "baidu": _l("百度导航"), "tencent": _l("腾讯导航")}


class CheckinPlace(Model):
    """The check-in measured against the unit (one per record that had both positions, or a reason): the unit's
    coordinates at that moment (they may be corrected later), the distance, the radius applied and the reason."""

    __tablename__ = "checkin_place"

    id: Mapped[intpk]
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"), unique=True)
    unit_lat: Mapped[float | None] = mapped_column(Float)
    unit_lon: Mapped[float | None] = mapped_column(Float)
    distance_m: Mapped[float | None] = mapped_column(Float)
    radius_m: Mapped[int] = mapped_column(Integer)
    far_reason: Mapped[str | None] = mapped_column(String(MAX_REASON))
    created_at: Mapped[created_at]

    inspection: Mapped[Inspection] = relationship()


def radius_for(org_id: int | None) -> int:
    """The check-in radius of an organisation: its own setting, else its nearest ancestor's, else 500 m."""
    seen: set[int] = set()
    while org_id is not None and org_id not in seen:
        seen.add(org_id)
        radius = db.session.execute(
            select(OrgCheckinSettings.radius_m).where(OrgCheckinSettings.org_id == org_id)
        ).scalar_one_or_none()
        if radius is not None:
            return radius
        org_id = db.session.execute(select(Organisation.parent_id).where(Organisation.id == org_id)).scalar()
    return geo.DEFAULT_RADIUS_M


@dataclass(frozen=True)
class Assessment:
    distance_m: float | None  # None when either position is unknown
    radius_m: int
    unit_lat: float | None
    unit_lon: float | None

    @property
    def far(self) -> bool:
        return geo.is_far(self.distance_m, self.radius_m)


def assess(task: Task, lat: float | None, lon: float | None) -> Assessment:
    unit = task.unit
    radius = radius_for(task.org_id)
    if lat is None or lon is None or unit.latitude is None or unit.longitude is None:
        return Assessment(None, radius, unit.latitude, unit.longitude)
    return Assessment(geo.distance_m(lat, lon, unit.latitude, unit.longitude), radius, unit.latitude, unit.longitude)


def far_message(distance: Any, radius: Any) -> str:
    """The message next to the reason field (the page's script fills ``{d}``/``{r}`` from far_message("{d}", "{r}"))."""
    return _(
        "签到位置距单位登记位置约%(d)s米，超过%(r)s米，请填写原因（如：单位已搬迁、坐标有误）。",
        d=distance,
        r=radius,
    )


def clean_reason(raw: Any) -> str:
    return raw.strip()[:MAX_REASON] if isinstance(raw, str) else ""


def check(a: Assessment, reason: str) -> dict[str, str]:
    """The errors of a check-in by the rule: a far one needs a reason (keyed ``far_reason``)."""
    if a.far and len(reason) < 2:
        return {"far_reason": far_message(round(a.distance_m or 0), a.radius_m)}
    return {}


def record_place(insp: Inspection, a: Assessment, reason: str) -> CheckinPlace | None:
    """Keep the measurement with the record (when there is one to keep)."""
    if a.distance_m is None and not reason:
        return None
    place = CheckinPlace(
        inspection_id=insp.id,
        unit_lat=a.unit_lat,
        unit_lon=a.unit_lon,
        distance_m=round(a.distance_m, 1) if a.distance_m is not None else None,
        radius_m=a.radius_m,
        far_reason=reason or None,
    )
    db.session.add(place)
    return place


# ------------------------------------------------------------------------------------------ for the pages


@dataclass(frozen=True)
class CheckinView:
    distance_m: float | None
    radius_m: int
    far: bool
    reason: str | None


def place_of(insp: Inspection | None) -> CheckinPlace | None:
    """The measurement of a record's check-in; a supplementary record keeps its original's check-in."""
    seen: set[int] = set()
    while insp is not None and insp.id is not None and insp.id not in seen:
        seen.add(insp.id)
        place = db.session.execute(
            select(CheckinPlace).where(CheckinPlace.inspection_id == insp.id)
        ).scalar_one_or_none()
        if place is not None:
            return place
        insp = insp.supersedes
    return None


def checkin_view(insp: Inspection | None) -> CheckinView | None:
    """What the record page shows under 签到位置: the distance to the unit, the radius and the reason."""
    if insp is None or insp.id is None:
        return None
    place = place_of(insp)
    if place is not None:
        dist = place.distance_m
        return CheckinView(dist, place.radius_m, geo.is_far(dist, place.radius_m), place.far_reason)
    a = assess(insp.task, insp.checkin_lat, insp.checkin_lon)  # a record checked in before this was kept
    if a.distance_m is None:
        return None
    return CheckinView(a.distance_m, a.radius_m, a.far, None)


def format_distance(metres: float) -> str:
    if metres < 1000:
        return _("%(m)s米", m=round(metres))
    return _("%(km)s公里", km=format(metres / 1000, ".1f"))


def unit_map_links(unit: Any) -> list[geo.MapLink]:
    return geo.map_links(unit.name, unit.address, unit.latitude, unit.longitude)


def template_globals() -> dict[str, Any]:
    """For the task and record pages and 我的任务 (Jinja globals, registered in ``create_app``)."""
    return {
        "checkin_view": checkin_view,
        "checkin_radius": radius_for,
        "unit_map_links": unit_map_links,
        "format_distance": format_distance,
        "far_message": far_message,
        "MAP_APPS": MAP_APPS,
    }
