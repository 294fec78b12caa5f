"""Demo data: a realistic fire-supervision set-up in Luoyang, for trying SuiJian out and for benchmarks.

``load_demo()`` fills an upgraded, empty database with
- the organisation tree 河南省消防救援总队 → 洛阳市消防救援支队 → three 大队 (偃师区 ``demo-1``, 孟津区
  ``demo-2``, 伊川县 ``demo-3``) and the market-regulation department ``demo-market``;
- the item list (``webapp.catalog.seed.seed_items``), owned by the first 大队;
- demo accounts (password ``suijian-demo``) and about 40 inspectors with posts, ranks, specialties,
  certificates (some expired or expiring), leave periods, frozen inspectors and declared conflicts (回避);
- thousands of units (检查对象) of every class with plausible names, addresses, valid and unique USCCs,
  people and mobile numbers, risk and credit levels, complaints, some zombie/closed units and some units
  with missing data for the data-quality view.

Everything is derived from one ``random.Random(seed)``: the same seed (on the same day, since certificate
and leave dates are relative to today) gives the same content. Only the opaque ``public_id``s are random.
Units are written with Core-style bulk inserts in batches, so a million units take minutes, not hours.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import itertools
import random
import string
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, insert, inspect, select

from webapp import audit, calendar
from webapp.auth.models import Organisation, OrgKind, Role, User
from webapp.calendar import month_bounds, working_days
from webapp.db import new_public_id, utcnow
from webapp.extensions import db
from webapp.registry.labels import POST_DEFAULT_WEIGHT
from webapp.registry.models import (
    CreditLevel,
    Inspector,
    InspectorConflict,
    InspectorStatus,
    InspectorUnavailability,
    ObjectType,
    RiskLevel,
    Unit,
    UnitClass,
    UnitStatus,
)

DEMO_PASSWORD = "suijian-demo"  # noqa: S105 - documented demo password, printed at start
DEFAULT_SEED = 2025
DEFAULT_UNITS = 3000
DEFAULT_INSPECTORS = 40
BATCH_SIZE = 10_000


class DemoError(Exception):
    """The demo cannot be loaded (e.g. the database is not empty or not upgraded)."""


# ---------------------------------------------------------------------------------------------------------
# Fast, valid 统一社会信用代码 (GB 32100-2015)
# ---------------------------------------------------------------------------------------------------------

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714 organisation code
_DIGITS = "0123456789"


# GB 11714 value of an organisation-code character: digits as themselves, A=10 … Z=35.
_ORG_VALUE = {c: int(c) if c.isdigit() else ord(c) - ord("A") + 10 for c in USCC_ALPHABET}


def uscc_check_digit(first17: str) -> str:
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def make_uscc(rng: random.Random, type_code: str, region: str, *, new_style: bool = True) -> str:
    """A valid USCC: registration authority + type (e.g. ``91`` enterprise, ``92`` individual business,
    ``12`` public institution), the 6-digit administrative division, the 9-character organisation code
    (with its own GB 11714 check character) and the USCC check character.

    ``new_style`` codes issued since 2015 start the organisation code with ``MA`` as market regulators do;
    older ones are eight digits.
    """
    body = "MA" + "".join(rng.choices(USCC_ALPHABET, k=6)) if new_style else "".join(rng.choices(_DIGITS, k=8))
    c9 = 11 - sum(_ORG_VALUE[c] * w for c, w in zip(body, _ORG_WEIGHTS, strict=True)) % 11
    first17 = type_code + region + body + ("X" if c9 == 10 else "0" if c9 == 11 else str(c9))
    return first17 + uscc_check_digit(first17)


# ---------------------------------------------------------------------------------------------------------
# Places: Luoyang districts, their towns/streets and roads
# ---------------------------------------------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


@dataclass(frozen=True)
class District:
    org_code: str
    org_name: str
    short_name: str
    name: str  # 偃师区
    prefix: str  # 洛阳市偃师区 (the start of every address)
    division_codes: tuple[str, ...]  # administrative division codes seen in USCCs, newest first
    towns: tuple[str, ...]  # 乡镇（街道）: the unit's region
    streets: int  # the first ``streets`` towns are urban streets (addresses on roads)
    roads: tuple[str, ...]
    villages: tuple[str, ...]
    centre: tuple[float, float]  # latitude, longitude
    share: float  # share of the demo's units


DISTRICTS: tuple[District, ...] = (
    District(
        org_code="demo-1",
        org_name="洛阳市偃师区消防救援大队",
        short_name="偃师大队",
        name="偃师区",
        prefix="洛阳市偃师区",
        division_codes=("410307", "410381"),
        towns=_words(
            "商城街道 首阳山街道 伊洛街道 城关街道 槐新街道 工业区街道 "
            "顾县镇 翟镇镇 岳滩镇 佃庄镇 李村镇 庞村镇 寇店镇 府店镇 缑氏镇 诸葛镇 山化镇 大口镇 高龙镇"
        ),
        streets=6,
        roads=_words(
            "华夏路 商都路 伊洛路 槐庄路 杜甫大道 首阳路 开元路 "
            "夏都路 太学路 迎宾路 滨河路 商城路 游殿路 新区大道 洛神路 二里头大道"
        ),
        villages=("南寨", "北窑", "东庄", "西寨", "马屯", "前进", "新庄", "岗上", "河头", "后营"),
        centre=(34.7272, 112.7894),
        share=0.40,
    ),
    District(
        org_code="demo-2",
        org_name="洛阳市孟津区消防救援大队",
        short_name="孟津大队",
        name="孟津区",
        prefix="洛阳市孟津区",
        division_codes=("410308", "410322"),
        towns=_words(
            "河阳街道 康乐街道 城关镇 会盟镇 平乐镇 白鹤镇 朝阳镇 送庄镇 麻屯镇 常袋镇 横水镇 小浪底镇 吉利乡"
        ),
        streets=3,
        roads=_words("黄河路 会盟大道 金谷大道 孟扶路 朝阳大道 平乐路 滨河北路 新城大道 康乐路 吉利大道 翠云路 文化路"),
        villages=("上店", "下店", "古城", "油坊", "牛王", "陈庄", "马村", "小寨", "东山", "王庄"),
        centre=(34.8260, 112.4450),
        share=0.35,
    ),
    District(
        org_code="demo-3",
        org_name="伊川县消防救援大队",
        short_name="伊川大队",
        name="伊川县",
        prefix="洛阳市伊川县",
        division_codes=("410329",),
        towns=_words(
            "城关街道 河滨街道 白沙镇 鸣皋镇 彭婆镇 高山镇 江左镇 "
            "葛寨镇 酒后镇 白元镇 鸦岭镇 水寨镇 吕店镇 平等乡 半坡镇"
        ),
        streets=2,
        roads=_words("伊河路 杜康大道 伊川大道 人民路 伊滨路 河滨路 建设路 德亿大道 龙凤山路 鸣皋路 工业大道 政和路"),
        villages=("杜康", "白土", "水寨", "常峪", "南府店", "北王", "牛沟", "刘庄", "岳庄", "窑底"),
        centre=(34.4215, 112.4252),
        share=0.25,
    ),
)

MARKET_ORG = ("demo-market", "洛阳市偃师区市场监督管理局", "偃师区市场监管局")
# Urban streets hold more units than townships: weight 3 against 1.
_TOWN_CUM = {
    d.org_code: list(itertools.accumulate(3 if i < d.streets else 1 for i in range(len(d.towns)))) for d in DISTRICTS
}

# ---------------------------------------------------------------------------------------------------------
# People
# ---------------------------------------------------------------------------------------------------------


# The most frequent surnames in Henan, most frequent first; weights fall off roughly like the real ones.
SURNAMES = (
    "王李张刘陈杨赵郭马孙黄周吴徐朱胡高何郑宋梁韩谢冯董程曹袁许邓田苏任范段贾丁魏薛卢姚吕崔蒋石"
    "秦史杜汪侯邵孟常付葛牛申闫冀毛尚乔康武"
)
_SURNAME_CUM = list(itertools.accumulate(1.0 / (i + 4) for i in range(len(SURNAMES))))
GIVEN_MALE = "伟强磊军洋勇杰涛明超刚平辉鹏飞宇浩斌建国志文波亮峰俊振宏庆利民龙永生家豪海东新卫红金博远"
GIVEN_FEMALE = "芳娜敏静丽艳娟秀霞英华玉兰梅琳晓春燕雪莉凤云欣怡萱涵婷慧颖佳桂红丹倩"
MOBILE_PREFIXES = _words(
    "130 131 132 133 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 170 "
    "173 175 176 177 178 180 181 182 183 185 186 187 188 189 191 193 195 198 199"
)


def person_name(rng: random.Random) -> str:
    surname = rng.choices(SURNAMES, cum_weights=_SURNAME_CUM)[0]
    chars = GIVEN_MALE if rng.random() < 0.55 else GIVEN_FEMALE
    return surname + "".join(rng.choices(chars, k=1 if rng.random() < 0.3 else 2))


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


# ---------------------------------------------------------------------------------------------------------
# Kinds of units: name patterns, industry, USCC type, crowded place or not
# ---------------------------------------------------------------------------------------------------------

BRANDS = _words(
    "鑫源 恒达 华瑞 宏图 金鼎 兴隆 盛世 瑞丰 天成 永盛 佳和 润泽 博远 中原 河洛 伊洛 首阳 牡丹 洛神 龙门 "
    "嘉禾 顺达 汇通 福源 聚丰 万家 新华 九州 豫洛 宏昌 利民 德信 康泰 晟达 众邦 锦程 昊天 祥瑞 凯旋 银河 "
    "同心 和美 百福 家乐 金福 泰和 长青 远航 华夏 建业 正道 昌盛 鸿运 三鑫 东方 御景 丰泽 诚信 亿家 金穗"
)
GOODS = _words("建材 五金 农资 电器 服装 日用 粮油 烟酒 钢材 汽配 家居 陶瓷 水暖 茶叶 文具 医疗器械")
PRODUCTS = _words("机械 耐火材料 钢制家具 针织 摩托车配件 铸造 塑料制品 包装材料 阀门 电缆 食品 饲料 新型建材")
_NUMERALS = "一二三四五六七八"
_TOWN_STREETS = _words("大街 中街 东街 西街 南街 北街 新街")


@dataclass(frozen=True)
class Kind:
    patterns: tuple[str, ...]
    industry: str
    uscc_type: str  # 91 enterprise, 92 individual business, 93 cooperative, 12 public institution, 11 organ …
    weight: float = 1.0
    crowded: bool = False


KEY_CROWDED = (
    Kind(("{brand}大酒店", "{dshort}{brand}国际酒店", "{brand}宾馆有限公司"), "住宿业", "91", 3, True),
    Kind(("{brand}购物广场", "{dshort}{brand}商贸城", "{brand}百货大楼", "{brand}生活广场"), "零售业", "91", 3, True),
    Kind(("{district}第{num}高级中学", "{district}{townfull}第{num}初级中学"), "教育", "12", 1.5, True),
    Kind(("{dshort}{brand}实验学校", "洛阳{brand}外国语学校"), "教育", "52", 0.5, True),
    Kind(("{district}人民医院", "{district}中医院", "{district}妇幼保健院"), "卫生", "12", 0.8, True),
    Kind(("{dshort}{brand}医院", "洛阳{brand}骨科医院"), "卫生", "52", 0.7, True),
    Kind(("{brand}KTV量贩", "{brand}娱乐会所", "{brand}歌城"), "娱乐业", "91", 1.5, True),
    Kind(("{district}{townfull}敬老院",), "社会工作", "12", 0.7, True),
    Kind(("{dshort}{brand}颐养院", "{dshort}{brand}养老服务中心"), "社会工作", "52", 0.8, True),
    Kind(("{brand}国际影城", "{brand}影院管理有限公司"), "广播、电视、电影和录音制作业", "91", 0.7, True),
    Kind(("{district}{brand}幼儿园", "{dshort}{brand}双语幼儿园"), "教育", "52", 1, True),
    Kind(("{district}{townfull}中心幼儿园",), "教育", "12", 0.5, True),
)
KEY_OTHER = (
    Kind(
        ("中国石化销售股份有限公司河南洛阳{dshort}{town}加油站", "中国石油天然气股份有限公司洛阳{dshort}{road}加油站"),
        "零售业",
        "91",
        2,
    ),
    Kind(("洛阳{brand}化工有限公司", "河南{brand}精细化工有限公司"), "化学原料和化学制品制造业", "91", 1.5),
    Kind(("{brand}物流有限公司", "洛阳{brand}仓储有限公司"), "仓储业", "91", 1.5),
    Kind(("洛阳{brand}{product}有限公司", "河南{brand}{product}股份有限公司"), "制造业", "91", 3),
    Kind(("{district}{brand}燃气有限公司", "洛阳{brand}液化气站"), "燃气生产和供应业", "91", 1),
    Kind(("{dshort}{brand}大厦", "{brand}国际商务中心"), "商务服务业", "91", 1),
    Kind(("国网洛阳供电公司{dshort}{road}变电站",), "电力、热力生产和供应业", "91", 0.5),
)
GENERAL = (
    Kind(("{district}{brand}商贸有限公司", "洛阳{brand}商贸有限公司"), "批发业", "91", 5),
    Kind(("洛阳{brand}{goods}有限公司", "{dshort}{brand}{goods}批发部"), "批发业", "91", 4),
    Kind(("洛阳{brand}汽车销售服务有限公司", "{brand}汽车销售有限公司"), "零售业", "91", 2),
    Kind(("河南{brand}科技有限公司", "洛阳{brand}信息技术有限公司"), "软件和信息技术服务业", "91", 2),
    Kind(("洛阳{brand}机械制造有限公司", "{dshort}{brand}机械厂"), "通用设备制造业", "91", 3),
    Kind(("{dshort}{brand}钢制家具有限公司", "洛阳{brand}家具有限公司"), "家具制造业", "91", 2),
    Kind(("{dshort}{brand}耐火材料有限公司", "洛阳{brand}新材料有限公司"), "非金属矿物制品业", "91", 2),
    Kind(("{dshort}{brand}农业发展有限公司", "洛阳{brand}生态农业有限公司"), "农业", "91", 2),
    Kind(("河南{brand}建筑工程有限公司", "洛阳{brand}建设工程有限公司"), "建筑业", "91", 3),
    Kind(("洛阳{brand}物业管理有限公司",), "房地产业", "91", 1.5),
    Kind(("洛阳{brand}广告传媒有限公司", "{dshort}{brand}文化传播有限公司"), "商务服务业", "91", 1.5),
    Kind(("洛阳{brand}餐饮管理有限公司", "{dshort}{brand}酒楼"), "餐饮业", "91", 2),
    Kind(("{dshort}{brand}汽车维修服务有限公司", "{brand}汽车修理厂"), "机动车、电子产品和日用产品修理业", "91", 2),
    Kind(("{district}{townfull}{health}",), "卫生", "12", 0.8),
    Kind(("洛阳{brand}印务有限公司",), "印刷和记录媒介复制业", "91", 0.8),
    Kind(("{dshort}{brand}针织有限公司", "洛阳{brand}纺织有限公司"), "纺织业", "91", 1),
    Kind(("洛阳{brand}食品有限公司", "{dshort}{brand}面业有限公司"), "食品制造业", "91", 1.5),
    Kind(("{district}{town}{brand}超市有限公司",), "零售业", "91", 1.5),
)
NINE_SMALL = (
    Kind(("{dshort}{surname}记便利店", "{brand}超市", "{town}{brand}日用百货店", "{brand}生活超市"), "零售业", "92", 5),
    Kind(
        (
            "{brand}饭店",
            "{surname}家小厨",
            "{brand}烩面馆",
            "{brand}火锅店",
            "{dshort}{brand}水席馆",
            "{surname}记牛肉汤馆",
        ),
        "餐饮业",
        "92",
        6,
    ),
    Kind(("{brand}宾馆", "{brand}快捷酒店", "{town}{brand}旅社", "{brand}商务宾馆"), "住宿业", "92", 2),
    Kind(("{brand}网吧", "{brand}网咖"), "互联网和相关服务", "92", 1.5),
    Kind(("{brand}美容美发店", "{brand}洗浴中心", "{brand}足浴店", "{brand}理发店"), "居民服务业", "92", 3),
    Kind(("{surname}氏诊所", "{dshort}{brand}口腔诊所", "{brand}大药房", "{town}{surname}记诊所"), "卫生", "92", 2),
    Kind(("{brand}歌舞厅", "{brand}棋牌室", "{brand}台球室"), "娱乐业", "92", 1),
    Kind(("{brand}托管中心", "{brand}培训学校", "{brand}艺术培训中心"), "教育", "52", 1.5),
    Kind(("{brand}门窗加工部", "{surname}记家具加工厂", "{brand}五金加工厂", "{brand}木业加工坊"), "制造业", "92", 2),
)
OTHER = (
    Kind(("{district}{townfull}{government}",), "公共管理", "11", 1),
    Kind(("{district}{townfull}{village}{committee}",), "群众性自治组织", "54", 3),
    Kind(("{dshort}{brand}种植专业合作社", "{dshort}{brand}养殖专业合作社"), "农业", "93", 2),
    Kind(("{district}{goods}行业协会",), "社会组织", "51", 0.5),
    Kind(("{district}{townfull}综合文化站",), "文化艺术业", "12", 1),
    Kind(("{district}{townfull}{village}小学",), "教育", "12", 1.5),
)

_KIND_CUM = {
    id(kinds): list(itertools.accumulate(k.weight for k in kinds))
    for kinds in (KEY_CROWDED, KEY_OTHER, GENERAL, NINE_SMALL, OTHER)
}


@functools.cache
def _pattern_fields(pattern: str) -> tuple[str, ...]:
    return tuple(f for _, f, _, _ in string.Formatter().parse(pattern) if f)


# Share of each class among units (the rest are units whose class is still unknown: missing data).
CLASS_SHARES = (
    (UnitClass.KEY, 0.08),
    (UnitClass.GENERAL, 0.55),
    (UnitClass.NINE_SMALL, 0.30),
    (UnitClass.OTHER, 0.07),
)
_RISKS = (RiskLevel.RED, RiskLevel.YELLOW, RiskLevel.BLUE, RiskLevel.GREEN)
# Key units carry more risk; the others are set so that all units together give about
# red 3 %, yellow 12 %, blue 45 %, green 40 %.
RISK_CUM = {
    "key": list(itertools.accumulate((0.15, 0.35, 0.40, 0.10))),
    "rest": list(itertools.accumulate((0.02, 0.10, 0.454, 0.426))),
}
_CREDITS = (CreditLevel.GOOD, CreditLevel.NORMAL, CreditLevel.POOR)
_CREDIT_CUM = list(itertools.accumulate((0.15, 0.80, 0.05)))
ZOMBIE_REASONS = (
    "经现场核查，登记地址无此单位",
    "多次电话联系未果，经营场所已拆除",
    "市场监管部门已列入经营异常名录，现场无经营活动",
    "登记地址为居民住宅，无实际经营",
)
CLOSED_REASONS = (
    "营业执照已注销",
    "已停业，经营场所已转租",
    "单位已搬迁出辖区",
    "因拆迁改造已停止经营",
)


def split_counts(total: int, shares: Sequence[float]) -> list[int]:
    """Split ``total`` by ``shares`` (largest remainder), so the counts add up exactly."""
    raw = [total * s / sum(shares) for s in shares]
    counts = [int(x) for x in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def special_counts(total: int) -> dict[str, int]:
    """How many units get each data-quality / status feature (scaled, with a floor for small demos)."""
    if total == 0:
        return {"zombie": 0, "closed": 0, "missing": 0}
    return {
        "zombie": min(total, max(3, round(total / 300))),  # ≈10 in the 3 000-unit demo
        "closed": min(total, max(2, round(total / 500))),
        "missing": min(total, max(4, round(total / 100))),  # ≈1 %: address, USCC, 消防安全责任人 or class
    }


@dataclass
class _UnitGenerator:
    """Generates unit rows (plain dicts for a bulk insert) for one district."""

    rng: random.Random
    district: District
    org_id: int
    used_usccs: set[str]
    used_names: set[str] | None
    now: dt.datetime

    def _name(self, kind: Kind, townfull: str, town: str, road: str, street: bool) -> str:
        rng, d = self.rng, self.district
        r = rng.random
        for attempt in range(4):
            pattern = kind.patterns[int(r() * len(kind.patterns))]
            # only draw the values this pattern uses (fast, and names stay independent of unused fields)
            values = {}
            for f in _pattern_fields(pattern):
                if f == "brand":
                    v = BRANDS[int(r() * len(BRANDS))]
                elif f == "surname":
                    v = SURNAMES[bisect.bisect(_SURNAME_CUM, r() * _SURNAME_CUM[-1])]
                elif f == "goods":
                    v = GOODS[int(r() * len(GOODS))]
                elif f == "product":
                    v = PRODUCTS[int(r() * len(PRODUCTS))]
                elif f == "num":
                    v = _NUMERALS[int(r() * len(_NUMERALS))]
                elif f == "village":
                    v = d.villages[int(r() * len(d.villages))]
                else:
                    v = {
                        "dshort": d.name[:2],
                        "district": d.name,
                        "town": town,
                        "townfull": townfull,
                        "road": road.removesuffix("大道").removesuffix("路"),
                        "government": "办事处" if street else "人民政府",
                        "committee": "社区居民委员会" if street else "村民委员会",
                        "health": "社区卫生服务中心" if street else "卫生院",
                    }[f]
                values[f] = v
            name = pattern.format_map(values)
            if self.used_names is None or name not in self.used_names:
                break
            if attempt == 3:  # a second shop of the same name: registered as a branch
                name += f"（{townfull}分店）" if kind.uscc_type == "92" else f"{town}分公司"
        if self.used_names is not None:
            self.used_names.add(name)
        return name

    def row(self, unit_class: UnitClass, crowded_wanted: bool | None) -> dict:
        rng, d = self.rng, self.district
        if unit_class is UnitClass.KEY:
            kinds = KEY_CROWDED if crowded_wanted else KEY_OTHER
        else:
            kinds = {UnitClass.GENERAL: GENERAL, UnitClass.NINE_SMALL: NINE_SMALL, UnitClass.OTHER: OTHER}[unit_class]
        kind = kinds[bisect.bisect(_KIND_CUM[id(kinds)], rng.random() * _KIND_CUM[id(kinds)][-1])]
        town_cum = _TOWN_CUM[d.org_code]
        town_i = bisect.bisect(town_cum, rng.random() * town_cum[-1])
        townfull = d.towns[town_i]
        town = townfull.removesuffix("街道").removesuffix("镇").removesuffix("乡")
        road = d.roads[int(rng.random() * len(d.roads))]
        street = town_i < d.streets
        name = self._name(kind, townfull, town, road, street)

        if street:
            address = f"{d.prefix}{road}{rng.randint(1, 399)}号"
            if rng.random() < 0.2:
                address += f"{rng.randint(1, 12)}号楼{rng.randint(1, 3)}层"
        elif rng.random() < 0.35:
            address = f"{d.prefix}{townfull}{town}{rng.choice(_TOWN_STREETS)}{rng.randint(1, 200)}号"
        else:
            address = f"{d.prefix}{townfull}{rng.choice(d.villages)}村{rng.randint(1, 12)}组"

        # Most units registered since 2015 (new division code, "MA…" codes from market regulators).
        registered_early = rng.random() < 0.3
        while True:
            uscc = make_uscc(
                rng,
                kind.uscc_type,
                d.division_codes[-1] if registered_early else d.division_codes[0],
                new_style=kind.uscc_type[0] == "9" and not registered_early,
            )
            if uscc not in self.used_usccs:
                self.used_usccs.add(uscc)
                break

        legal_rep = person_name(rng)
        safety_person = legal_rep if unit_class is UnitClass.NINE_SMALL or rng.random() < 0.4 else person_name(rng)
        contact_name = safety_person if rng.random() < 0.3 else person_name(rng)
        # mostly mobiles, some Luoyang landlines
        contact_phone = mobile(rng) if rng.random() < 0.9 else f"0379-6{rng.randrange(10**7):07d}"
        risk = rng.choices(_RISKS, cum_weights=RISK_CUM["key" if unit_class is UnitClass.KEY else "rest"])[0]
        credit = rng.choices(_CREDITS, cum_weights=_CREDIT_CUM)[0]
        r = rng.random()
        complaints = 0 if r < 0.9 else 1 if r < 0.96 else rng.randint(2, 5)
        if rng.random() < 0.4:
            lat = round(d.centre[0] + rng.uniform(-0.08, 0.08), 6)
            lon = round(d.centre[1] + rng.uniform(-0.10, 0.10), 6)
        else:
            lat = lon = None
        return {
            "public_id": new_public_id("U"),
            "org_id": self.org_id,
            "name": name,
            "uscc": uscc,
            "address": address,
            "region": townfull,
            "industry": kind.industry,
            "legal_rep": legal_rep,
            "safety_person": safety_person,
            "contact_name": contact_name,
            "contact_phone": contact_phone,
            "object_type": ObjectType.SOCIAL_UNIT,
            "unit_class": unit_class,
            "crowded": kind.crowded,
            "risk_level": risk,
            "credit_level": credit,
            "complaint_count": complaints,
            "serious_violation": risk is RiskLevel.RED and rng.random() < 0.3,
            "latitude": lat,
            "longitude": lon,
            "status": UnitStatus.ACTIVE,
            "status_reason": None,
            "created_at": self.now,
            "updated_at": self.now,
        }


# 消防技术服务机构 (检测、维保): the population of the technical-service item (seed 000, item 3).
TECH_SERVICE_PATTERNS = (
    "洛阳{brand}消防技术服务有限公司",
    "{district}{brand}消防设施检测有限公司",
    "河南{brand}消防安全技术有限公司{dshort}分公司",
    "洛阳{brand}消防设施维护保养有限公司",
    "{dshort}{brand}消防工程技术服务有限公司",
)
TECH_SERVICE_INDUSTRY = "科学研究和技术服务业"


def tech_service_count(district: District, n: int) -> int:
    """How many of a district's ``n`` units are 消防技术服务机构: a handful, most in the first 大队."""
    return min(n // 10, 6 if district.org_code == DISTRICTS[0].org_code else 2)


def _as_tech_service(rng: random.Random, row: dict, district: District, used_usccs: set[str]) -> dict:
    """Turn a general unit's row into a 消防技术服务机构 (a company: name, industry and a 91… code)."""
    brand = BRANDS[int(rng.random() * len(BRANDS))]
    pattern = TECH_SERVICE_PATTERNS[int(rng.random() * len(TECH_SERVICE_PATTERNS))]
    row["name"] = pattern.format(brand=brand, district=district.name, dshort=district.name[:2])
    row["industry"] = TECH_SERVICE_INDUSTRY
    row["object_type"] = ObjectType.TECH_SERVICE
    row["crowded"] = False
    if row["uscc"] and not row["uscc"].startswith("91"):
        while True:
            uscc = make_uscc(rng, "91", district.division_codes[0])
            if uscc not in used_usccs:
                used_usccs.add(uscc)
                row["uscc"] = uscc
                break
    return row


def iter_unit_rows(
    rng: random.Random,
    district: District,
    org_id: int,
    n: int,
    used_usccs: set[str],
    now: dt.datetime,
    *,
    tech_service: int = 0,
) -> Iterator[dict]:
    """``n`` unit rows for one district: exact class shares (half of the key units crowded places),
    then zombie, closed and incomplete units spread over the list; the first ``tech_service`` complete, active
    general units are 消防技术服务机构 (object type), the others 社会单位."""
    classes: list[tuple[UnitClass, bool | None]] = []
    for (cls, _), count in zip(CLASS_SHARES, split_counts(n, [s for _, s in CLASS_SHARES]), strict=True):
        if cls is UnitClass.KEY:
            crowded = count // 2 + count % 2
            classes += [(cls, True)] * crowded + [(cls, False)] * (count - crowded)
        else:
            classes += [(cls, None)] * count
    rng.shuffle(classes)
    special = special_counts(n)
    picks = rng.sample(range(n), special["zombie"] + special["closed"] + special["missing"]) if n else []
    zombies = set(picks[: special["zombie"]])
    closed = set(picks[special["zombie"] : special["zombie"] + special["closed"]])
    missing = picks[special["zombie"] + special["closed"] :]
    missing_field = {i: ("address", "uscc", "safety_person", "unit_class")[k % 4] for k, i in enumerate(missing)}
    special_rows = zombies | closed | set(missing)
    generals = [i for i, pair in enumerate(classes) if pair[0] is UnitClass.GENERAL and i not in special_rows]
    tech = set(generals[:tech_service])
    gen = _UnitGenerator(rng, district, org_id, used_usccs, set() if n <= 20_000 else None, now)
    for i, (cls, crowded) in enumerate(classes):
        row = gen.row(cls, crowded)
        if i in tech:
            row = _as_tech_service(rng, row, district, used_usccs)
        if i in zombies:
            row["status"] = UnitStatus.ZOMBIE
            row["status_reason"] = rng.choice(ZOMBIE_REASONS)
        elif i in closed:
            row["status"] = UnitStatus.CLOSED
            row["status_reason"] = rng.choice(CLOSED_REASONS)
        if i in missing_field:
            f = missing_field[i]
            row[f] = None
            if f == "unit_class":
                row["crowded"] = False
        yield row


# ---------------------------------------------------------------------------------------------------------
# Inspectors
# ---------------------------------------------------------------------------------------------------------

FIRE_SPECIALTIES = _words("建筑防火 消防设施 电气防火 危险化学品 消防产品 火灾调查 人员密集场所 高层建筑")
MARKET_SPECIALTIES = ("登记注册", "产品质量", "市场秩序", "特种设备", "价格监督")
FIRE_RANKS_FULL_TIME = _words("三级指挥长 一级指挥员 一级指挥员 二级指挥员 二级指挥员 三级指挥员 四级指挥员")
FIRE_RANKS_PART_TIME = ("二级指挥员", "三级指挥员", "四级指挥员", "一级消防士")
MARKET_RANKS = ("主任科员", "副主任科员", "副主任科员", "科员", "科员")
FROZEN_REASONS = ("因病长期休养，暂停抽取", "调任政工岗位，暂停执法检查工作")
LEAVE_REASONS = ("年休假", "抽调参加支队执法骨干培训", "借调至支队防火监督处", "年休假", "抽调参加省总队专项督查")
CONFLICT_REASONS = (
    "亲属任职（配偶任该单位消防安全管理人）",
    "曾为该单位提供技术服务",
    "近亲属为该单位法定代表人",
    "本人曾在该单位任职（2023年离职）",
)


@dataclass(frozen=True)
class Account:
    username: str
    role: Role
    org_name: str
    display_name: str


@dataclass
class DemoSummary:
    seed: int
    organisations: int = 0
    items: int = 0
    users: int = 0
    inspectors: int = 0
    units: int = 0
    units_by_org: dict[str, int] = field(default_factory=dict)
    units_by_class: dict[str, int] = field(default_factory=dict)
    zombie_units: int = 0
    closed_units: int = 0
    incomplete_units: int = 0
    conflicts: int = 0
    leave_periods: int = 0
    frozen_inspectors: int = 0
    published_draw: str | None = None  # public id of this month's demo draw, when the pool allowed one
    accounts: list[Account] = field(default_factory=list)

    def as_audit_data(self) -> dict:
        return {
            "seed": self.seed,
            "organisations": self.organisations,
            "items": self.items,
            "users": self.users,
            "inspectors": self.inspectors,
            "units": self.units,
            "units_by_org": self.units_by_org,
            "units_by_class": self.units_by_class,
            "zombie_units": self.zombie_units,
            "closed_units": self.closed_units,
            "incomplete_units": self.incomplete_units,
            "conflicts": self.conflicts,
            "leave_periods": self.leave_periods,
            "frozen_inspectors": self.frozen_inspectors,
        }


def database_ready() -> bool:
    """Whether the schema exists (``flask db upgrade`` has run)."""
    return inspect(db.engine).has_table(Organisation.__tablename__)


def database_is_empty() -> bool:
    return not db.session.execute(select(func.count()).select_from(Organisation)).scalar()


def loaded_accounts() -> list[Account]:
    """The accounts of a database the demo was loaded into (its ``demo.loaded`` audit event), else []."""
    if db.session.execute(select(audit.AuditEvent.id).where(audit.AuditEvent.action == "demo.loaded")).first() is None:
        return []
    rows = db.session.execute(
        select(User.username, User.role, Organisation.name, User.display_name)
        .join(Organisation, Organisation.id == User.org_id)
        .order_by(User.id)
    )
    return [Account(username, role, org_name, name) for username, role, org_name, name in rows]


def _organisations() -> dict[str, Organisation]:
    zongdui = Organisation(
        code="demo-zongdui", name="河南省消防救援总队", short_name="河南总队", kind=OrgKind.ZONGDUI, region="河南省"
    )
    db.session.add(zongdui)
    db.session.flush()
    zhidui = Organisation(
        code="demo-zhidui",
        name="洛阳市消防救援支队",
        short_name="洛阳支队",
        kind=OrgKind.ZHIDUI,
        region="洛阳市",
        parent_id=zongdui.id,
    )
    db.session.add(zhidui)
    db.session.flush()
    orgs = {"demo-zongdui": zongdui, "demo-zhidui": zhidui}
    for d in DISTRICTS:
        orgs[d.org_code] = Organisation(
            code=d.org_code,
            name=d.org_name,
            short_name=d.short_name,
            kind=OrgKind.DADUI,
            region=d.name,
            parent_id=zhidui.id,
        )
    code, name, short = MARKET_ORG
    # A separate regulator, not part of the fire brigade's tree: joint inspections draw from both.
    orgs[code] = Organisation(
        code=code, name=name, short_name=short, kind=OrgKind.DEPARTMENT, dept="market", region="偃师区"
    )
    db.session.add_all(orgs.values())
    db.session.flush()
    return orgs


def _seed_items(owner: Organisation) -> int:
    from webapp.catalog.seed import seed_items

    return len(seed_items(owner, actor=None))


def _inspector_plan(total: int) -> list[tuple[str, int]]:
    """(org code, head count): about 15 % in the market department, the rest over the 大队 (12/12/10 of 34)."""
    market = max(2, round(total * 0.15))
    fire = max(3 * 2, total - market)
    a, b, c = split_counts(fire, [0.35, 0.35, 0.30])
    return [("demo-1", a), ("demo-2", b), ("demo-3", c), (MARKET_ORG[0], market)]


def _cert_no(region: str, year: int, seq: int) -> str:
    """行政执法证件号 such as 豫410307190123: province, division code, year of issue, serial."""
    return f"豫{region}{year % 100:02d}{seq:04d}"


def load_demo(
    units: int = DEFAULT_UNITS,
    inspectors: int = DEFAULT_INSPECTORS,
    seed: int = DEFAULT_SEED,
    *,
    today: dt.date | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> DemoSummary:
    """Fill an upgraded, empty database with the demo. Raises :class:`DemoError` if it is not empty."""
    if not database_ready():
        raise DemoError("the database has no tables: run `flask db upgrade` first")
    if not database_is_empty():
        raise DemoError("the database already has organisations")
    rng = random.Random(seed)
    today = today or calendar.today()
    now = utcnow()
    summary = DemoSummary(seed=seed)

    orgs = _organisations()
    summary.organisations = len(orgs)
    # Items belong to the first 大队: the default items are the 偃师区 大队's published list (seed 000,
    # 检查主体 "区消防救援大队"), and supervisors manage only their own subtree, so the demo's main
    # supervisor (demo-1) can open, edit and draw with them. An item owned by the 支队 would be outside it.
    summary.items = _seed_items(orgs["demo-1"])

    # ---- accounts: one password hash computed once and shared (demo only; scrypt costs ~0.1 s each)
    first = User(username="admin", display_name=person_name(rng), role=Role.ADMIN, org_id=orgs["demo-zhidui"].id)
    first.set_password(DEMO_PASSWORD)
    password_hash = first.password_hash
    users: list[User] = [first]

    def add_user(username: str, role: Role, org: Organisation, display_name: str) -> User:
        user = User(username=username, display_name=display_name, role=role, org_id=org.id)
        user.password_hash = password_hash
        users.append(user)
        return user

    for username, code in (
        ("supervisor", "demo-1"),
        ("supervisor2", "demo-2"),
        ("supervisor3", "demo-3"),
        ("market-supervisor", MARKET_ORG[0]),
    ):
        add_user(username, Role.SUPERVISOR, orgs[code], person_name(rng))

    # ---- inspectors
    people: list[tuple[Inspector, User]] = []
    cert_seq = itertools.count(101)
    for org_index, (code, count) in enumerate(_inspector_plan(inspectors), start=1):
        org = orgs[code]
        market = code == MARKET_ORG[0]
        region = "410307" if market else DISTRICTS[org_index - 1].division_codes[0]
        if market:
            posts = ["市场监管执法人员"] * count
        else:
            clerks = round(count * 0.17) if count >= 4 else 0
            part_time = round(count * 0.25) if count >= 3 else 0
            posts = (
                ["专职消防监督员"] * (count - clerks - part_time)
                + ["兼职消防监督员"] * part_time
                + ["消防文员"] * clerks
            )
            posts = posts[:1] + rng.sample(posts[1:], len(posts) - 1)  # the first one is always 专职
        width = max(2, len(str(count)))
        for seq, post in enumerate(posts, start=1):
            name = person_name(rng)
            if org.code == "demo-1" and seq == 1:
                username = "inspector"
            else:
                username = f"insp-{'m' if market else org_index}-{seq:0{width}d}"
            user = add_user(username, Role.INSPECTOR, org, name)
            if market:
                rank = rng.choice(MARKET_RANKS)
                specialties = rng.sample(MARKET_SPECIALTIES, rng.randint(1, 2))
                can_lead = rank != "科员"
            elif post == "专职消防监督员":
                rank = rng.choice(FIRE_RANKS_FULL_TIME)
                specialties = rng.sample(FIRE_SPECIALTIES, rng.randint(1, 3))
                can_lead = True
            elif post == "兼职消防监督员":
                rank = rng.choice(FIRE_RANKS_PART_TIME)
                specialties = rng.sample(FIRE_SPECIALTIES, 1)
                can_lead = False
            else:  # 消防文员: civilian staff, no rank, assists only
                rank = None
                specialties = []
                can_lead = False
            issued = today.year - rng.randint(0, 4)  # certificates are valid six years
            insp = Inspector(
                public_id=new_public_id("I"),
                org_id=org.id,
                name=name,
                phone=mobile(rng),
                post=post,
                rank=rank,
                specialties="、".join(specialties) or None,
                cert_no=_cert_no(region, issued, next(cert_seq)),
                cert_valid_until=dt.date(issued + 6, rng.randint(1, 12), rng.randint(1, 28)),
                can_lead=can_lead,
                draw_weight=POST_DEFAULT_WEIGHT.get(post, 100),
            )
            people.append((insp, user))
    db.session.add_all(users)
    db.session.flush()
    for insp, user in people:
        insp.user_id = user.id
    inspector_list = [insp for insp, _ in people]
    db.session.add_all(inspector_list)
    db.session.flush()
    summary.users = len(users)
    summary.inspectors = len(inspector_list)
    summary.accounts = [
        Account(u.username, u.role, next(o.name for o in orgs.values() if o.id == u.org_id), u.display_name)
        for u in users
    ]

    # Certificates: two expired, two expiring within 30 days; two 消防文员 without one (not drawable).
    others = inspector_list[1:]  # leave `inspector` (the main demo login) able to work
    clerks = [i for i in others if i.post == "消防文员"]
    pick = rng.sample(others, min(len(others), 4))
    for insp in pick[:2]:
        insp.cert_valid_until = today - dt.timedelta(days=rng.randint(5, 90))
    for insp in pick[2:4]:
        insp.cert_valid_until = today + dt.timedelta(days=rng.randint(3, 28))
    for insp in rng.sample(clerks, min(2, len(clerks))):
        insp.cert_no = None
        insp.cert_valid_until = None
    freezable = [i for i in others if i not in pick and i.cert_no]
    frozen = rng.sample(freezable, min(2, len(freezable)))
    for insp, reason in zip(frozen, FROZEN_REASONS, strict=False):
        insp.status = InspectorStatus.FROZEN
        insp.status_reason = reason
    summary.frozen_inspectors = len(frozen)

    # Leave periods next month (a week of 年休假, two weeks of training, three weeks seconded), with reasons.
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    workdays = working_days(*month_bounds(year, month)) or [month_bounds(year, month)[0]]
    available = [i for i in others if i.status is InspectorStatus.ACTIVE]
    leave_people = rng.sample(available, min(len(available), 5))
    for insp, reason in zip(leave_people, LEAVE_REASONS, strict=False):
        start = rng.choice(workdays[: max(1, len(workdays) // 2)])
        length = 5 if reason == "年休假" else 12 if "培训" in reason or "督查" in reason else 20
        db.session.add(
            InspectorUnavailability(
                inspector_id=insp.id,
                start_date=start,
                end_date=min(start + dt.timedelta(days=length), month_bounds(year, month)[1]),
                reason=reason,
            )
        )
    summary.leave_periods = len(leave_people)

    # ---- units, in bulk
    summary.units = units
    per_district = split_counts(units, [d.share for d in DISTRICTS])
    used_usccs: set[str] = set()
    done = 0
    batch: list[dict] = []
    class_counter: Counter[str] = Counter()
    status_counter: Counter[UnitStatus] = Counter()
    incomplete = 0

    # A normal demo is one transaction (all or nothing); a benchmark-sized run commits every batch.
    commit_batches = units > batch_size

    def flush_batch() -> None:
        nonlocal done
        if batch:
            db.session.connection().execute(insert(Unit.__table__), batch)
            if commit_batches:
                db.session.commit()
            done += len(batch)
            batch.clear()
            if progress:
                progress(done, units)

    for district, n in zip(DISTRICTS, per_district, strict=True):
        summary.units_by_org[district.org_code] = n
        rows = iter_unit_rows(
            rng, district, orgs[district.org_code].id, n, used_usccs, now, tech_service=tech_service_count(district, n)
        )
        for row in rows:
            class_counter[row["unit_class"].value if row["unit_class"] else "unknown"] += 1
            status_counter[row["status"]] += 1
            if not (row["address"] and row["uscc"] and row["safety_person"] and row["unit_class"]):
                incomplete += 1
            batch.append(row)
            if len(batch) >= batch_size:
                flush_batch()
    flush_batch()
    summary.units_by_class = dict(sorted(class_counter.items()))
    summary.zombie_units = status_counter[UnitStatus.ZOMBIE]
    summary.closed_units = status_counter[UnitStatus.CLOSED]
    summary.incomplete_units = incomplete

    # ---- declared conflicts of interest (回避) with units of the inspector's own 大队
    conflict_people = [i for i in inspector_list if i.post != "市场监管执法人员"]
    conflict_people = conflict_people[:1] + rng.sample(conflict_people[1:], min(len(conflict_people) - 1, 4))
    for insp, reason in zip(conflict_people, itertools.cycle(CONFLICT_REASONS), strict=False):
        candidates = (
            db.session.execute(
                select(Unit.id)
                .where(Unit.org_id == insp.org_id, Unit.status == UnitStatus.ACTIVE)
                .order_by(Unit.id)
                .limit(300)
            )
            .scalars()
            .all()
        )
        if candidates:
            db.session.add(InspectorConflict(inspector_id=insp.id, unit_id=rng.choice(candidates), reason=reason))
            summary.conflicts += 1

    audit.record(
        "flask demo",
        "demo.loaded",
        ("organisation", orgs["demo-zhidui"].id),
        summary.as_audit_data(),
        reason="演示数据",
        org_id=orgs["demo-zhidui"].id,
    )
    db.session.commit()
    supervisor = next(u for u in users if u.username == "supervisor")
    summary.published_draw = _demo_draw(supervisor, orgs["demo-1"], today)
    return summary


DEMO_WITNESSES = (("李建华", "人大代表", "20261123-7319"), ("陈晓燕", "律师", "东风路小学 4421"))


def _demo_draw(supervisor: User, org: Organisation, today: dt.date) -> str | None:
    """This month's witnessed, published draw of 对单位履行消防安全职责情况的日常监督抽查, done through the same
    services as the ceremony page, so that the demo shows tasks and a public draw anyone can verify."""
    from webapp.admin.services import confirm_year
    from webapp.catalog.models import Item
    from webapp.draw import services

    item = db.session.execute(select(Item).where(Item.code == "fire-duty")).scalar_one()
    # a draw needs a known calendar: this month's and next month's (the next draw to try) — the demo says why
    for year in sorted({today.year, (today.replace(day=1) + dt.timedelta(days=32)).year}):
        if not calendar.year_known(year):
            confirm_year(None, year, "演示数据：该年度放假安排尚未录入，演示按无节假日处理")
    try:
        plan = services.create_plan(supervisor, org=org, item=item, year=today.year)
        draw = services.commit(supervisor, plan, f"{today.year:04d}-{today.month:02d}", today)
        for name, role, value in DEMO_WITNESSES:
            services.add_witness(supervisor, draw, name, role, value)
        services.perform(supervisor, draw)
        services.publish(supervisor, draw)
    except services.DrawError:  # a tiny demo (a few units) may leave nothing to draw this month
        db.session.rollback()
        return None
    db.session.commit()
    return draw.public_id
