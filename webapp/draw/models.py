"""Plans, draws and the tasks they assign (双随机).

A ``Draw`` is never deleted: it moves committed → drawn → published, or to abandoned (with a reason,
and is published like any other). Its pool, commitment, secret, witnesses, seed and result are kept as
the exact JSON that the public bundle carries, so the bundle is read back, never re-derived.

Draws of ``suijian-draw/2`` (every draw committed since) also hold a replacement secret (for every 递补),
a closing time (``closed_at``: the replacement secret is revealed and no 递补 follows) and an append-only,
hash-chained ceremony log (``DrawEvent``, DRAW_SPEC section 1). Draws of ``suijian-draw/1`` keep their
single secret and no log.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.auth.models import Organisation
from webapp.db import JSONText, UTCDateTime, created_at, intpk, new_public_id, str40, str_enum
from webapp.extensions import Model
from webapp.registry.models import Inspector
from webapp.tasks.models import Task

SPEC_V1 = "suijian-draw/1"  # draws committed before version 2 (the server default of draw.spec)


class PlanKind(enum.StrEnum):
    ROUTINE = "routine"  # 日常监督抽查 (annual plan → monthly draws)
    SPECIAL = "special"  # 专项检查 (fire season, holidays, events)


class PlanStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    CLOSED = "closed"


class Plan(Model):
    """An annual plan (年度抽查计划) or a special inspection plan for one item."""

    __tablename__ = "plan"

    id: Mapped[intpk]
    public_id: Mapped[str40] = mapped_column(unique=True, default=lambda: new_public_id("P"))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)  # who draws
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[PlanKind] = mapped_column(str_enum(PlanKind, "plan_kind"), default=PlanKind.ROUTINE)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[PlanStatus] = mapped_column(str_enum(PlanStatus, "plan_status"), default=PlanStatus.ACTIVE)
    # {"key_crowded": 100, "key": 80, "general": 20, "nine_small": 20, "other": 0}: % of the stratum a year
    targets: Mapped[dict] = mapped_column(JSONText, default=dict)
    # special plans: fixed tasks per stratum per month instead of yearly targets
    monthly_quotas: Mapped[dict | None] = mapped_column(JSONText)
    # 浮动管理: {"risk": {"red": 200, …}, "credit": {"poor": 50, "good": -25}, "complaint_each": 10,
    #            "complaint_max": 100, "serious_violation": 100}
    weights: Mapped[dict] = mapped_column(JSONText, default=dict)
    slots: Mapped[list] = mapped_column(JSONText, default=list)  # [{"dept": "fire", "role": "lead"}, …]
    unit_org_ids: Mapped[list] = mapped_column(JSONText, default=list)  # whose units (cross-region: several 大队)
    inspector_org_ids: Mapped[list] = mapped_column(JSONText, default=list)  # whose inspectors form the pool
    pool_filter: Mapped[dict | None] = mapped_column(JSONText)  # special: classes, regions, industries, crowded
    start_month: Mapped[int] = mapped_column(Integer, default=1)
    end_month: Mapped[int] = mapped_column(Integer, default=12)
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[created_at]

    org: Mapped[Organisation] = relationship()
    item = relationship("Item")


class DrawStatus(enum.StrEnum):
    COMMITTED = "committed"  # pool frozen, commitment shown; witnesses may enter values
    DRAWN = "drawn"  # result computed; confidential
    PUBLISHED = "published"  # secret revealed, tasks public
    ABANDONED = "abandoned"  # with a reason; published with its result like any other


# A draw in one of these states is public (一公开): its result and its tasks are open to everyone.
PUBLIC_STATUSES = (DrawStatus.PUBLISHED, DrawStatus.ABANDONED)


class Draw(Model):
    __tablename__ = "draw"
    __table_args__ = (
        # At most one live draw per plan and period: two supervisors committing at once make one draw.
        Index(
            "uq_draw_plan_period_live",
            "plan_id",
            "period",
            unique=True,
            sqlite_where=text("status != 'abandoned'"),
            postgresql_where=text("status != 'abandoned'"),
        ),
    )

    id: Mapped[intpk]
    public_id: Mapped[str40] = mapped_column(unique=True, default=lambda: new_public_id("D"))
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    item_version_id: Mapped[int] = mapped_column(ForeignKey("item_version.id"))
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    # The rules the draw was committed under; draws before version 2 are "suijian-draw/1".
    spec: Mapped[str] = mapped_column(String(20), server_default=SPEC_V1)
    status: Mapped[DrawStatus] = mapped_column(str_enum(DrawStatus, "draw_status"), default=DrawStatus.COMMITTED)
    pool: Mapped[dict] = mapped_column(JSONText, deferred=True)  # ~57 MB at 1M units: loaded only when read
    pool_hash: Mapped[str] = mapped_column(String(64))
    commitment: Mapped[str] = mapped_column(String(64))
    server_secret: Mapped[str] = mapped_column(String(64))  # hex; revealed only on publication
    # /2: decides every 递补; revealed only on closing (None for /1 draws)
    replacement_secret: Mapped[str | None] = mapped_column(String(64))
    replacement_commitment: Mapped[str | None] = mapped_column(String(64))
    # /2: committed before the due window (the last two working days of the month before): why
    early_reason: Mapped[str | None] = mapped_column(Text)
    seed: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[list | None] = mapped_column(JSONText, deferred=True)
    excluded: Mapped[list] = mapped_column(JSONText, default=list)  # [{"unit_id", "reason"}]
    inspector_excluded: Mapped[list] = mapped_column(JSONText, default=list)  # [{"inspector_id", "reasons"}]
    committed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    committed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    drawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    drawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    abandoned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    abandoned_reason: Mapped[str | None] = mapped_column(Text)
    abandoned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # /2: replacement secret revealed

    plan: Mapped[Plan] = relationship()
    org: Mapped[Organisation] = relationship()
    witnesses: Mapped[list[DrawWitness]] = relationship(back_populates="draw", order_by="DrawWitness.seq")
    tasks: Mapped[list[Task]] = relationship(back_populates="draw", order_by="Task.seq")
    replacements: Mapped[list[Replacement]] = relationship(back_populates="draw", order_by="Replacement.id")
    events: Mapped[list[DrawEvent]] = relationship(back_populates="draw", order_by="DrawEvent.n")

    @property
    def is_public(self) -> bool:
        """Published or abandoned: the result and its tasks are public (webapp.auth.access reads this)."""
        return self.status in PUBLIC_STATUSES

    @property
    def is_closed(self) -> bool:
        """Closed (/2): the replacement secret is revealed and no 递补 can follow."""
        return self.closed_at is not None

    @property
    def has_log(self) -> bool:
        """Draws of suijian-draw/2 keep the ceremony log; /1 draws do not."""
        return self.spec != "suijian-draw/1"


class DrawWitness(Model):
    """A witness (监督员、企业代表、人大代表 …) and the value they typed; the order of entry is kept."""

    __tablename__ = "draw_witness"
    __table_args__ = (UniqueConstraint("draw_id", "seq", name="uq_draw_witness_draw_seq"),)

    id: Mapped[intpk]
    draw_id: Mapped[int] = mapped_column(ForeignKey("draw.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(50))
    value: Mapped[str] = mapped_column(String(200))  # NFC-normalised, stripped
    entered_at: Mapped[created_at]
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    draw: Mapped[Draw] = relationship(back_populates="witnesses")


class Replacement(Model):
    """递补抽取: one refill of one slot, with the reason and the candidates it was drawn from."""

    __tablename__ = "replacement"

    id: Mapped[intpk]
    draw_id: Mapped[int] = mapped_column(ForeignKey("draw.id"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    slot: Mapped[int] = mapped_column(Integer)
    round: Mapped[int] = mapped_column(Integer)
    # None: the slot was empty (/2: no candidate at the draw)
    out_inspector_id: Mapped[int | None] = mapped_column(ForeignKey("inspector.id"))
    in_inspector_id: Mapped[int] = mapped_column(ForeignKey("inspector.id"))
    reason: Mapped[str] = mapped_column(Text)
    candidates: Mapped[list] = mapped_column(JSONText)  # inspector public ids
    # /2: those the system excluded at that moment, [{"id", "reason"}] (leave, frozen, certificate, …)
    excluded_now: Mapped[list | None] = mapped_column(JSONText)
    created_at: Mapped[created_at]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    draw: Mapped[Draw] = relationship(back_populates="replacements")
    task: Mapped[Task] = relationship()
    out_inspector: Mapped[Inspector] = relationship(foreign_keys=[out_inspector_id])
    in_inspector: Mapped[Inspector] = relationship(foreign_keys=[in_inspector_id])


class DrawEvent(Model):
    """One event of a draw's ceremony log (/2): append-only, each row's ``head`` chains it to the one before.

    ``at`` and ``data`` are stored exactly as the event that was hashed (``at`` as the ISO text
    ``2026-12-30T02:00:00Z``), so the log is read back, never re-derived. Rows are never updated or deleted.
    """

    __tablename__ = "draw_event"
    __table_args__ = (UniqueConstraint("draw_id", "n", name="uq_draw_event_draw_n"),)

    id: Mapped[intpk]
    draw_id: Mapped[int] = mapped_column(ForeignKey("draw.id"), index=True)
    n: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(20))
    at: Mapped[str] = mapped_column(String(20))  # UTC, whole seconds, "…Z"
    data: Mapped[dict] = mapped_column(JSONText)
    head: Mapped[str] = mapped_column(String(64))

    draw: Mapped[Draw] = relationship(back_populates="events")

    def as_event(self) -> dict:
        """The event exactly as hashed: ``{"n", "type", "at", "data"}``."""
        return {"n": self.n, "type": self.type, "at": self.at, "data": self.data}


@event.listens_for(DrawEvent, "before_update")
@event.listens_for(DrawEvent, "before_delete")
def _append_only(mapper, connection, target) -> None:
    raise RuntimeError("the ceremony log is append-only")
