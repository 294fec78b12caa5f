"""一单: the random inspection item list (随机抽查事项清单), with versions and checklist points."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.auth.models import Organisation
from webapp.db import UTCDateTime, created_at, intpk, str40, str_enum, utcnow
from webapp.extensions import Model
from webapp.registry.models import ObjectType

ITEM_CATEGORIES = ("一般检查事项", "重点检查事项")
ITEM_METHODS = ("现场检查", "抽样送检", "书面检查")


class Item(Model):
    """An item keeps its code; its content lives in versions (动态调整). Inspections record the version."""

    __tablename__ = "item"

    id: Mapped[intpk]
    code: Mapped[str40] = mapped_column(unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)  # owning organisation
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[created_at]

    org: Mapped[Organisation] = relationship()
    versions: Mapped[list[ItemVersion]] = relationship(
        back_populates="item", order_by="ItemVersion.version", foreign_keys="ItemVersion.item_id"
    )

    @property
    def current(self) -> ItemVersion:
        return self.versions[-1]


class ItemVersion(Model):
    """One immutable version of an item. Editing an item creates a new version."""

    __tablename__ = "item_version"
    __table_args__ = (UniqueConstraint("item_id", "version", name="uq_item_version_item_version"),)

    id: Mapped[intpk]
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))  # 抽查事项名称
    basis: Mapped[str] = mapped_column(Text)  # 抽查依据
    subject: Mapped[str] = mapped_column(String(200))  # 检查主体
    target: Mapped[str] = mapped_column(String(200))  # 检查对象
    category: Mapped[str] = mapped_column(String(20))  # 一般检查事项 / 重点检查事项
    methods: Mapped[str] = mapped_column(String(100))  # 现场检查、抽样送检 … joined by "、"
    ratio_frequency: Mapped[str] = mapped_column(String(300))  # 抽查比例和频次
    # Departments taking part (comma-separated dept codes: "fire" or "fire,market" for joint items).
    departments: Mapped[str] = mapped_column(String(100), default="fire")
    # 检查对象类型 the item draws from (comma-separated ObjectType values): only units of these types are
    # in its sampling frame (DRAW_SPEC §4). ``target`` above is the published wording of 检查对象.
    target_types: Mapped[str] = mapped_column(
        String(100), default=ObjectType.SOCIAL_UNIT.value, server_default=ObjectType.SOCIAL_UNIT.value
    )
    change_note: Mapped[str | None] = mapped_column(String(300))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[created_at]

    item: Mapped[Item] = relationship(back_populates="versions", foreign_keys=[item_id])
    points: Mapped[list[ChecklistPoint]] = relationship(back_populates="item_version", order_by="ChecklistPoint.seq")

    @property
    def dept_list(self) -> list[str]:
        return [d for d in self.departments.split(",") if d]

    @property
    def target_type_list(self) -> list[ObjectType]:
        """The object types this version draws from, in ObjectType order (unknown codes are ignored)."""
        codes = set((self.target_types or "").split(","))
        return [t for t in ObjectType if t.value in codes]

    @property
    def is_joint(self) -> bool:
        return len(self.dept_list) > 1


class ChecklistPoint(Model):
    __tablename__ = "checklist_point"

    id: Mapped[intpk]
    item_version_id: Mapped[int] = mapped_column(ForeignKey("item_version.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    dept: Mapped[str] = mapped_column(String(20), default="fire")  # which department checks this point
    text: Mapped[str] = mapped_column(String(500))
    basis: Mapped[str | None] = mapped_column(String(300))  # legal basis for a problem found here

    item_version: Mapped[ItemVersion] = relationship(back_populates="points")


class SuggestedOrder(enum.StrEnum):
    """The order a common problem usually gets (the codes of rectification's OrderKind)."""

    IMMEDIATE = "immediate"  # 责令立即改正
    DEADLINE = "deadline"  # 责令限期改正


class CommonProblem(Model):
    """常见问题库: a problem often found under an item, with its legal basis and the order it usually gets.

    Kept per item (not per version): the library outlives the checklist's versions. Never deleted; a problem no
    longer offered is inactive. Picking one on site fills a finding (``CommonProblemUse`` keeps the link).
    """

    __tablename__ = "common_problem"

    id: Mapped[intpk]
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(String(500))  # 问题描述
    legal_basis: Mapped[str] = mapped_column(String(500))  # 法律依据 (articles)
    order_kind: Mapped[SuggestedOrder] = mapped_column(
        str_enum(SuggestedOrder, "suggested_order"), default=SuggestedOrder.DEADLINE
    )
    deadline_days: Mapped[int | None] = mapped_column(Integer)  # working days (责令限期改正)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[created_at]
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    item: Mapped[Item] = relationship()


class CommonProblemUse(Model):
    """A finding filled from a common problem: the order form takes the problem's suggested kind and deadline
    from here even after the inspector reworded the finding. Goes with the finding (a draft finding deleted)."""

    __tablename__ = "common_problem_use"

    id: Mapped[intpk]
    finding_id: Mapped[int] = mapped_column(ForeignKey("finding.id", ondelete="CASCADE"), unique=True)
    common_problem_id: Mapped[int] = mapped_column(ForeignKey("common_problem.id"), index=True)
    created_at: Mapped[created_at]

    problem: Mapped[CommonProblem] = relationship()
