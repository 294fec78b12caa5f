"""The preloaded item list (一单): the three fire items of seed 000 and the joint item of seed 002.

Names, 抽查依据, 检查对象, 事项类别, 检查方式, 检查主体 and 抽查比例和频次 are taken word for word from the
source documents (偃师区消防救援大队 2025 抽查计划 附件; 偃消〔2023〕19号 联合抽查实施方案). The checklist
points of the fire items follow the duties of 《中华人民共和国消防法》 (2021) and the contents of
《消防监督检查规定》（公安部令第120号）; a point's basis names an article only where the article is certain,
otherwise just the law or is left empty. Every item draws 社会单位 except the technical-service item, whose
population is the 消防技术服务机构 (its 检查对象).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from webapp.auth.models import Organisation, User
from webapp.catalog import services
from webapp.catalog.models import Item
from webapp.catalog.services import PointData
from webapp.extensions import db
from webapp.registry.models import ObjectType

FIRE_LAW = "《中华人民共和国消防法》"
BASIS_FIRE = "《中华人民共和国消防法》、《消防监督检查规定》（公安部令第120号）"
REGISTRATION = "《中华人民共和国市场主体登记管理条例》"


def _fire(text: str, basis: str | None = None) -> PointData:
    return PointData("fire", text, basis)


def _market(text: str, basis: str | None = None) -> PointData:
    return PointData("market", text, basis)


SEED_ITEMS: tuple[dict[str, Any], ...] = (
    {
        "code": "fire-duty",
        "values": {
            "name": "对单位履行消防安全职责情况的日常监督抽查",
            "basis": BASIS_FIRE,
            "target": "消防救援机构管辖的机关、团体、企业、事业等单位",
            "category": "一般检查事项",
            "methods": ["现场检查"],
            "subject": "区消防救援大队",
            "ratio_frequency": "消防安全重点单位100%，一般单位、九小场所、其他单位根据实际情况开展",
            "departments": ["fire"],
        },
        "points": [
            _fire("消防安全责任制和消防安全管理制度落实情况", f"{FIRE_LAW}第十六条"),
            _fire("灭火和应急疏散预案制定情况", f"{FIRE_LAW}第十六条"),
            _fire("防火检查、巡查及火灾隐患整改情况", f"{FIRE_LAW}第十六条、第十七条"),
            _fire("消防设施、器材和消防安全标志完好有效情况", f"{FIRE_LAW}第十六条"),
            _fire("建筑消防设施每年至少一次全面检测及检测记录情况", f"{FIRE_LAW}第十六条"),
            _fire("疏散通道、安全出口、消防车通道畅通情况", f"{FIRE_LAW}第十六条、第二十八条"),
            _fire("消防控制室值班及自动消防系统操作人员持证情况", f"{FIRE_LAW}第二十一条"),
            _fire("消防安全培训和灭火应急疏散演练情况", f"{FIRE_LAW}第十六条、第十七条"),
            _fire("电气线路、燃气管道敷设及用火用电管理情况", f"{FIRE_LAW}第二十一条、第二十七条"),
            _fire("公众聚集场所投入使用、营业前消防安全检查情况", f"{FIRE_LAW}第十五条"),
            _fire(
                "生产、储存、经营易燃易爆危险品的场所与居住场所设置情况",
                f"{FIRE_LAW}第十九条",
            ),
            _fire(
                "消防安全重点单位确定消防安全管理人、建立消防档案、确定重点部位情况",
                f"{FIRE_LAW}第十七条",
            ),
        ],
    },
    {
        "code": "fire-product",
        "values": {
            "name": "对使用领域的消防产品质量监督抽查",
            "basis": BASIS_FIRE,
            "target": "使用领域的消防产品",
            "category": "一般检查事项",
            "methods": ["现场检查", "抽样送检"],
            "subject": "区消防救援大队",
            "ratio_frequency": "根据实际情况开展",
            "departments": ["fire"],
        },
        "points": [
            _fire("使用的消防产品符合国家标准、行业标准情况", f"{FIRE_LAW}第二十四条"),
            _fire("使用不合格消防产品或国家明令淘汰的消防产品情况", f"{FIRE_LAW}第二十四条"),
            _fire("依法实行强制性产品认证的消防产品认证及标志情况", f"{FIRE_LAW}第二十四条"),
            _fire("消防产品现场检查判定（外观、标志、关键部件）情况"),
            _fire("现场判定不合格或有疑问的消防产品抽样送检情况"),
            _fire("建筑构件、建筑材料和室内装修、装饰材料的防火性能情况", f"{FIRE_LAW}第二十六条"),
        ],
    },
    {
        "code": "fire-service",
        "values": {
            "name": "对社会消防技术服务机构开展的检测、维保服务项目规范性情况的抽查",
            "basis": "《中华人民共和国消防法》《社会消防技术服务管理规定》",
            "target": "消防技术服务机构",
            "target_types": [ObjectType.TECH_SERVICE.value],
            "category": "一般检查事项",
            "methods": ["现场检查"],
            "subject": "区消防救援大队",
            "ratio_frequency": "根据实际情况开展",
            "departments": ["fire"],
        },
        "points": [
            _fire("机构从业条件符合规定情况", f"{FIRE_LAW}第三十四条"),
            _fire("执业人员依法取得相应资格情况", f"{FIRE_LAW}第三十四条"),
            _fire(
                "按照国家标准、行业标准和执业准则开展检测、维保服务情况",
                f"{FIRE_LAW}第三十四条",
            ),
            _fire("出具的检测报告、维保记录等书面结论文件真实、完整情况", f"{FIRE_LAW}第三十四条"),
            _fire("服务合同签订及项目档案管理情况", "《社会消防技术服务管理规定》"),
            _fire("从业信息公示情况", "《社会消防技术服务管理规定》"),
        ],
    },
    {
        "code": "joint-product",
        "values": {
            "name": "消防产品质量监督情况联合抽查",
            "basis": (
                "《河南省市场监管领域部门联合抽查事项清单》；《关于推进部门联合“双随机、一公开”工作提升营商环境"
                "评价指标的通知》（洛双随机〔2022〕5号）"
            ),
            "target": "辖区内单位的消防产品使用情况及营业执照登记事项",
            "category": "一般检查事项",
            "methods": ["现场检查"],
            "subject": "区消防救援大队（牵头）、区市场监督管理局",
            "ratio_frequency": "抽查比例不小于2%",
            "departments": ["fire", "market"],
        },
        "points": [
            _fire("消防产品使用情况", f"{FIRE_LAW}第二十四条"),
            _fire("消防设施器材完好情况", f"{FIRE_LAW}第十六条"),
            _market("营业执照（登记证）规范使用情况", REGISTRATION),
            _market("名称规范使用情况", REGISTRATION),
            _market("住所（经营场所）或者驻在场所", REGISTRATION),
        ],
    },
)
SEED_CODES: tuple[str, ...] = tuple(s["code"] for s in SEED_ITEMS)

# 常见问题库 of the fire items: the problems most often found, with the articles that set the duty (and, where the
# law names the act, the article that punishes it). 《消防法》 as amended in 2021; 《机关、团体、企业、事业单位消防
# 安全管理规定》 is 公安部令第61号 (2001). Deadlines are working days, the usual 责令限期改正 periods.
RULES_61 = "《机关、团体、企业、事业单位消防安全管理规定》"
IMMEDIATE, DEADLINE = "immediate", "deadline"
SEED_PROBLEMS: dict[str, tuple[tuple[str, str, str, int | None], ...]] = {
    "fire-duty": (
        (
            "占用、堵塞、封闭疏散通道、安全出口",
            f"{FIRE_LAW}第二十八条、第六十条第一款第三项；{RULES_61}第二十一条",
            IMMEDIATE,
            None,
        ),
        (
            "营业期间将安全出口上锁、遮挡，或遮挡、覆盖消防安全疏散指示标志",
            f"{FIRE_LAW}第二十八条；{RULES_61}第二十一条",
            IMMEDIATE,
            None,
        ),
        (
            "埋压、圈占、遮挡消火栓",
            f"{FIRE_LAW}第二十八条、第六十条第一款第四项",
            IMMEDIATE,
            None,
        ),
        (
            "占用、堵塞、封闭消防车通道",
            f"{FIRE_LAW}第二十八条、第六十条第一款第五项",
            IMMEDIATE,
            None,
        ),
        (
            "人员密集场所在门窗上设置影响逃生和灭火救援的障碍物",
            f"{FIRE_LAW}第二十八条、第六十条第一款第六项",
            DEADLINE,
            5,
        ),
        (
            "灭火器等消防器材配置不符合标准或未保持完好有效（压力不足、过期未维修）",
            f"{FIRE_LAW}第十六条第一款第二项、第六十条第一款第一项；{RULES_61}第二十九条",
            DEADLINE,
            5,
        ),
        (
            "消防安全疏散指示标志、应急照明损坏或未保持完好有效",
            f"{FIRE_LAW}第十六条第一款第二项、第六十条第一款第一项；{RULES_61}第二十一条",
            DEADLINE,
            5,
        ),
        (
            "建筑消防设施未按规定每年至少进行一次全面检测",
            f"{FIRE_LAW}第十六条第一款第三项",
            DEADLINE,
            20,
        ),
        (
            "未按规定组织防火检查、防火巡查",
            f"{FIRE_LAW}第十六条第一款第五项、第十七条；{RULES_61}第二十五条、第二十六条",
            DEADLINE,
            10,
        ),
        (
            "未组织消防安全培训和灭火、应急疏散演练",
            f"{FIRE_LAW}第十六条第一款第六项、第十七条；{RULES_61}第三十六条、第四十条",
            DEADLINE,
            15,
        ),
        (
            "自动消防系统操作人员未持证上岗",
            f"{FIRE_LAW}第二十一条第二款",
            DEADLINE,
            15,
        ),
        (
            "电气线路敷设、用电设备安装使用不符合消防技术标准（私拉乱接电线）",
            f"{FIRE_LAW}第二十七条第二款",
            DEADLINE,
            5,
        ),
    ),
    "fire-product": (
        (
            "使用不合格的消防产品或国家明令淘汰的消防产品",
            f"{FIRE_LAW}第二十四条",
            DEADLINE,
            10,
        ),
        (
            "依法实行强制性产品认证的消防产品未经认证或无认证标志",
            f"{FIRE_LAW}第二十四条",
            DEADLINE,
            10,
        ),
    ),
}


def seed_items(owner_org: Organisation, *, actor: User | None = None) -> list[Item]:
    """Create the four preloaded items (version 1 with checklist points) owned by ``owner_org``.

    Idempotent: a code that already exists is left as it is. Returns the four items in seed order, whether
    created now or before. Each created item is audited ``item.created``. Flushes; the caller commits.
    """
    existing = {i.code: i for i in db.session.execute(select(Item).where(Item.code.in_(SEED_CODES))).scalars()}
    out = []
    for spec in SEED_ITEMS:
        item = existing.get(spec["code"])
        if item is None:
            item = services.create_item(
                actor,
                code=spec["code"],
                org_id=owner_org.id,
                values=spec["values"],
                points=spec["points"],
                change_note="预置事项（来源：抽查计划附件、联合抽查实施方案）",
            )
        out.append(item)
        seed_problems(item, actor=actor)
    db.session.flush()
    return out


def seed_problems(item: Item, *, actor: User | None = None) -> int:
    """Fill the common-problem library of a seeded fire item when it is still empty; returns how many were added."""
    specs = SEED_PROBLEMS.get(item.code, ())
    if not specs or services.list_problems(item):
        return 0
    for text, basis, kind, days in specs:
        services.add_problem(
            actor, item, {"text": text, "legal_basis": basis, "order_kind": kind, "deadline_days": days or ""}
        )
    return len(specs)
