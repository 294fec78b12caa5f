"""Per-organisation settings kept by the admins that belong to no other package's table.

``OrgCheckinSettings``: the check-in radius (签到范围) of an organisation. A check-in farther than this from the
unit's stored position needs a reason (webapp.inspections.checkin). An organisation without its own row takes
its nearest ancestor's; without any, ``webapp.inspections.geo.DEFAULT_RADIUS_M`` (500 m).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import UTCDateTime, intpk, utcnow
from webapp.extensions import Model


class OrgCheckinSettings(Model):
    __tablename__ = "org_checkin_settings"

    id: Mapped[intpk]
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), unique=True)
    radius_m: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
