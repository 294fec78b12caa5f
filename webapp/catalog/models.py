"""一单: the random inspection item list (随机抽查事项清单), with versions and checklist points."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.auth.models import Organisation
from webapp.db import created_at, intpk, str40
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
