"""The pure draw engine under spec ``suijian-draw/1`` (draws committed before /2) and its standalone verifier.

The /2 rules are tested in ``test_engine_v2.py``; here every draw, seed and replacement asks for /1 explicitly.

Everything here is pure: no app, no database.  ``reference_draw`` below is a deliberately naive second
implementation written straight from the spec text (sort everything, ``math.ceil`` on fractions, the
spec's own ticket code); the engine, which takes shortcuts for speed, must agree with it exactly.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import json
import math
import shutil
import subprocess
import sys
from collections import defaultdict
from fractions import Fraction
from pathlib import Path

import consistent_sampler
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from webapp.draw import engine

REPO = Path(__file__).resolve().parents[2]
ENGINE_FILE = REPO / "webapp" / "draw" / "engine.py"
VERIFY_FILE = ENGINE_FILE  # the public site serves the engine itself as verify.py

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------------------------------------------
# A naive reference implementation, straight from the spec text
# ------------------------------------------------------------------------------------------------


def ref_ticket(seed: str, s: str) -> int:
    seed_hash = hashlib.sha256(seed.encode()).hexdigest()
    h = int(hashlib.sha256((seed_hash + s).encode("utf-8")).hexdigest(), 16)
    digits = f"{h:064d}"[::-1]
    return int(digits.ljust(78, "0"))


def ref_key(seed: str, s: str, w: int) -> tuple[int, str]:
    return (ref_ticket(seed, s) * 100 // w, s)


def reference_draw(pool: dict, seed: str) -> dict:
    units, quotas, slots = pool["units"], pool["quotas"], pool["slots"]
    inspectors, days = pool["inspectors"], pool["working_days"]

    def unit_key(u: dict) -> tuple[int, str]:
        return ref_key(seed, "unit:" + u["id"], u["weight"])

    drawn: list[dict] = []
    for stratum in sorted({u["stratum"] for u in units}):
        ranked = sorted((u for u in units if u["stratum"] == stratum), key=unit_key)
        drawn += ranked[: quotas.get(stratum, 0)]
    drawn.sort(key=unit_key)

    cap: dict[str, int] = {}
    for dept in {s["dept"] for s in slots}:
        needed = len(drawn) * sum(1 for s in slots if s["dept"] == dept)
        members = [i for i in inspectors if i["dept"] == dept]
        total = sum(i["weight"] for i in members)
        for i in members:
            cap[i["id"]] = math.ceil(Fraction(needed * i["weight"], total))
    load: dict[str, int] = defaultdict(int)
    result, unfillable = [], []
    for n, unit in enumerate(drawn):
        day = days[n % len(days)]
        on_task: list[str] = []
        assignments = []
        for k, slot in enumerate(slots):
            candidates = [
                i
                for i in inspectors
                if i["dept"] == slot["dept"]
                and unit["id"] not in i["conflicts"]
                and i["id"] not in on_task
                and (slot["role"] != "lead" or i["can_lead"])
                and day not in i["unavailable"]
            ]
            if not candidates:
                unfillable.append({"unit_id": unit["id"], "slot": k, "planned_date": day})
                assignments.append({"slot": k, "inspector_id": None})
                continue
            below = [i for i in candidates if load[i["id"]] < cap[i["id"]]]
            best = min(
                below or candidates,
                key=lambda i, k=k: ref_key(seed, f"insp:{unit['id']}:{k}:{i['id']}", i["weight"]),
            )
            load[best["id"]] += 1
            on_task.append(best["id"])
            assignments.append({"slot": k, "inspector_id": best["id"]})
        result.append({"unit_id": unit["id"], "planned_date": day, "assignments": assignments})
    return {"result": result, "unfillable": unfillable}


# ------------------------------------------------------------------------------------------------
# Fixtures and builders
# ------------------------------------------------------------------------------------------------

FIRE_LEAD = {"dept": "fire", "role": "lead"}
FIRE_ASSIST = {"dept": "fire", "role": "assist"}
DAYS = ("2026-12-01", "2026-12-02", "2026-12-03")
SECRET = bytes(range(32))
WITNESS = ["31415926535897932384", "王监督 62831"]


def draw_v1(pool: dict, seed: str) -> dict:
    return engine.draw(pool, seed, engine.SPEC_V1)


def compute_seed_v1(pool_hash: str, secret_hex: str, witness: list[str]) -> str:
    return engine.compute_seed(pool_hash, secret_hex, witness, engine.SPEC_V1)


def inspector(iid: str, dept: str = "fire", *, lead: bool = True, weight: int = 100, conflicts=(), off=()) -> dict:
    return {
        "id": iid,
        "dept": dept,
        "can_lead": lead,
        "weight": weight,
        "conflicts": list(conflicts),
        "unavailable": list(off),
    }


def snapshot_pool() -> dict:
    return {
        "units": [
            {"id": "U01", "stratum": "key_crowded", "weight": 150},
            {"id": "U02", "stratum": "key_crowded", "weight": 100},
            {"id": "U03", "stratum": "key", "weight": 100},
            {"id": "U04", "stratum": "key", "weight": 200},
            {"id": "U05", "stratum": "key", "weight": 50},
            {"id": "U06", "stratum": "general", "weight": 100},
            {"id": "U07", "stratum": "general", "weight": 100},
            {"id": "U08", "stratum": "general", "weight": 80},
        ],
        "inspectors": [
            inspector("I1"),
            inspector("I2", off=["2026-12-02"]),
            inspector("I3", weight=150),
            inspector("I4", lead=False, conflicts=["U03"]),
            inspector("I5", lead=False, weight=50),
        ],
        "quotas": {"key_crowded": 1, "key": 2, "general": 2},
        "slots": [FIRE_LEAD, FIRE_ASSIST],
        "working_days": list(DAYS),
    }


def make_bundle(pool: dict, witness=WITNESS, secret: bytes = SECRET, plan=()) -> dict:
    """Build a bundle the way the application does; ``plan`` lists (task index, slot, reason) replacements."""
    ph = engine.pool_hash(pool)
    seed = engine.compute_seed(ph, secret.hex(), list(witness), engine.SPEC_V1)
    result = draw_v1(pool, seed)["result"]
    replacements: list[dict] = []
    holders = {t["unit_id"]: [a["inspector_id"] for a in t["assignments"]] for t in result}
    rounds: dict[tuple[str, int], int] = defaultdict(int)
    for index, slot, reason in plan:
        task = result[index]
        unit_id = task["unit_id"]
        round_ = rounds[(unit_id, slot)] + 1
        ever = engine.ever_assigned_to(task, replacements)
        winner, candidates, _ = engine.replace(pool, seed, task, slot, round_, ever, spec=engine.SPEC_V1)
        replacements.append(
            {
                "unit_id": unit_id,
                "slot": slot,
                "round": round_,
                "out": holders[unit_id][slot],
                "in": winner,
                "reason": reason,
                "candidates": candidates,
            }
        )
        holders[unit_id][slot] = winner
        rounds[(unit_id, slot)] = round_
    return {
        "spec": engine.SPEC_V1,
        "draw": {"id": "D1", "org": "O1", "item": "fire-routine", "period": "2026-12", "status": "published"},
        "pool": pool,
        "pool_hash": ph,
        "commitment": engine.commitment(secret),
        "witness": list(witness),
        "server_secret": secret.hex(),
        "seed": seed,
        "result": result,
        "replacements": replacements,
        "excluded": [{"unit_id": "U99", "reason": "twice_this_year"}],
    }


# ------------------------------------------------------------------------------------------------
# Hypothesis strategies
# ------------------------------------------------------------------------------------------------

weights = st.one_of(st.sampled_from([1, 50, 100, 150, 200, 999, 1000]), st.integers(1, 1000))
seeds = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
ids = st.text(alphabet="ABCXYZabc0123456789-_", min_size=1, max_size=8)


@st.composite
def pools(draw, max_units: int = 20, max_inspectors: int = 9) -> dict:
    strata = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3, unique=True))
    n_units = draw(st.integers(0, max_units))
    units = [{"id": f"U{n}", "stratum": draw(st.sampled_from(strata)), "weight": draw(weights)} for n in range(n_units)]
    unit_ids = [u["id"] for u in units]
    depts = draw(st.lists(st.sampled_from(["fire", "market"]), min_size=1, max_size=2, unique=True))
    days = [f"2026-12-{d:02d}" for d in range(1, draw(st.integers(1, 4)) + 1)]
    inspectors = []
    for n in range(draw(st.integers(0, max_inspectors))):
        conflicts = draw(st.lists(st.sampled_from(unit_ids), max_size=3, unique=True)) if unit_ids else []
        inspectors.append(
            {
                "id": f"I{n}",
                "dept": draw(st.sampled_from(depts)),
                "can_lead": draw(st.booleans()),
                "weight": draw(weights),
                "conflicts": conflicts,
                "unavailable": draw(st.lists(st.sampled_from(days), max_size=2, unique=True)),
            }
        )
    quotas = {s: draw(st.integers(0, 8)) for s in strata if draw(st.booleans()) or s == "a"}
    slots = draw(
        st.lists(
            st.fixed_dictionaries({"dept": st.sampled_from(depts), "role": st.sampled_from(["lead", "assist"])}),
            min_size=1,
            max_size=3,
        )
    )
    return {"units": units, "inspectors": inspectors, "quotas": quotas, "slots": slots, "working_days": days}


# ------------------------------------------------------------------------------------------------
# The file itself
# ------------------------------------------------------------------------------------------------


def test_engine_imports_only_the_standard_library():
    tree = ast.parse(ENGINE_FILE.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports"
            imported.add(node.module.split(".")[0])
    assert imported, "the parser found no import at all?"
    outside = {name for name in imported if name not in sys.stdlib_module_names and name != "__future__"}
    assert not outside, f"engine.py imports outside the standard library: {outside}"


# ------------------------------------------------------------------------------------------------
# Tickets: agreement with consistent-sampler 1.0.10 (Rivest)
# ------------------------------------------------------------------------------------------------


def test_ticket_matches_the_consistent_sampler_docstring_example():
    # consistent_sampler.first_fraction('AB-130', '01382438112797316654') from its own doctest
    fraction = "0.26299714122838008416507544297546663599715395525154425586041245287750224561854"
    assert engine.ticket("01382438112797316654", "AB-130") == int(fraction[2:].ljust(78, "0"))


@pytest.mark.parametrize("seed", ["01382438112797316654", "314159", "a" * 64, "随检 seed"])
def test_tickets_equal_consistent_sampler_first_fraction(seed):
    for s in ["unit:U1", "unit:AB-130", "insp:U1:0:I7", "repl:U1:1:2:I9", "unit:" + "x" * 40]:
        fraction = consistent_sampler.first_fraction(s, seed)
        assert engine.ticket(seed, s) == int(fraction[2:].ljust(78, "0")) == ref_ticket(seed, s)


def _single_stratum_pool(unit_ids: list[str], quota: int) -> dict:
    return {
        "units": [{"id": u, "stratum": "general", "weight": 100} for u in unit_ids],
        "inspectors": [],
        "quotas": {"general": quota},
        "slots": [],
        "working_days": list(DAYS),
    }


@pytest.mark.parametrize(
    ("seed", "unit_ids"),
    [
        ("314159", ["ab-1", "ab-2", "cd-1", "ef-3"]),
        ("01382438112797316654", [f"U{n:04d}" for n in range(200)]),
        ("f" * 64, [f"unit-{n}" for n in range(57)]),
        (hashlib.sha256(b"x").hexdigest(), ["Z", "Y", "X", "W_1", "w-2"]),
    ],
)
def test_unit_order_with_equal_weights_is_consistent_samplers_order(seed, unit_ids):
    # The engine ranks units by key("unit:" + id, 100) = (T, "unit:" + id), where T is the sampler's
    # ticket for the id string "unit:" + id.  So we give the sampler the prefixed ids: it must yield
    # exactly our task order.  (Its own tie-break on equal tickets is also the id string.)
    order = [t["unit_id"] for t in draw_v1(_single_stratum_pool(unit_ids, len(unit_ids)), seed)["result"]]
    expected = list(consistent_sampler.sampler(["unit:" + u for u in unit_ids], seed=seed, output="id"))
    assert ["unit:" + u for u in order] == expected
    # and with a quota, the draw is the sampler's first `quota` ids
    quota = max(1, len(unit_ids) // 3)
    drawn = [t["unit_id"] for t in draw_v1(_single_stratum_pool(unit_ids, quota), seed)["result"]]
    assert ["unit:" + u for u in drawn] == expected[:quota]


@settings(max_examples=25, deadline=None)
@given(seed=st.text(min_size=1, max_size=30), unit_ids=st.lists(ids, min_size=1, max_size=30, unique=True))
def test_property_equal_weight_order_is_the_samplers(seed, unit_ids):
    order = [t["unit_id"] for t in draw_v1(_single_stratum_pool(unit_ids, len(unit_ids)), seed)["result"]]
    expected = list(consistent_sampler.sampler(["unit:" + u for u in unit_ids], seed=seed, output="id"))
    assert ["unit:" + u for u in order] == expected


def test_key_divides_the_ticket_by_the_weight():
    t = engine.ticket("s", "unit:U1")
    assert engine.key("s", "unit:U1", 100) == (t, "unit:U1")
    assert engine.key("s", "unit:U1", 200) == (t // 2, "unit:U1")
    assert engine.key("s", "unit:U1", 3) == (t * 100 // 3, "unit:U1")
    for bad in (0, 1001, -5, 100.0, True, "100", None):
        with pytest.raises(ValueError, match="weight"):
            engine.key("s", "unit:U1", bad)


@pytest.mark.parametrize("count", [1, 2, 7, 50, 333])
@pytest.mark.parametrize("weight_kind", ["equal", "random", "skewed"])
def test_fast_selection_is_exactly_the_sorted_prefix(count, weight_kind):
    """``_smallest`` skips the decimal conversion for ids that cannot win; it must change nothing."""
    n = 4000
    names = [f"X{i}" for i in range(n)]
    if weight_kind == "equal":
        ws = [100] * n
    elif weight_kind == "random":
        ws = [int(hashlib.sha256(str(i).encode()).hexdigest(), 16) % 1000 + 1 for i in range(n)]
    else:  # almost everyone weight 1, a few at 1000: the filter has to back off
        ws = [1000 if i % 997 == 0 else 1 for i in range(n)]
    for seed in ("seed-1", "seed-2"):
        state = engine._seed_state(seed)
        base = state.copy()
        base.update(b"p:")
        fast = engine._smallest(base, names, [x.encode() for x in names], ws, count)
        brute = sorted(
            (ref_ticket(seed, "p:" + x) * 100 // w, x, i) for i, (x, w) in enumerate(zip(names, ws, strict=True))
        )
        assert fast == brute[:count]


@st.composite
def candidate_lists(draw) -> tuple[list[str], list[int], set[int], list[int]]:
    """Candidate ids and weights for ``_lowest``, an exclusion set, and inspectors to drop (capped)."""
    n = draw(st.sampled_from([1, 2, 5, 40, 150, 900, 2500]))
    kind = draw(st.sampled_from(["equal", "random", "skewed"]))
    if kind == "equal":
        ws = [draw(weights)] * n
    elif kind == "random":
        r = draw(st.randoms(use_true_random=False))
        ws = [r.randint(1, 1000) for _ in range(n)]
    else:  # nearly all weight 1 and a few at 1000: the filter must back off to lower levels
        ws = [1000 if i % 97 == 0 else 1 for i in range(n)]
    excluded = set(draw(st.lists(st.integers(0, n - 1), max_size=3)))
    dropped = draw(st.lists(st.integers(0, n - 1), max_size=4, unique=True))
    return [f"I{i}" for i in range(n)], ws, excluded, dropped


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=candidate_lists(), seed=seeds, unit=ids, slot=st.integers(0, 3), eager=st.booleans())
def test_property_fast_inspector_pick_is_the_reference_minimum(data, seed, unit, slot, eager):
    """``_lowest`` (digest-byte prefilter, partial decimal conversion) picks the spec's lowest key."""
    names, ws, excluded, dropped = data
    members = [engine._Inspector(i, name, "fire", True, w, frozenset(), frozenset()) for i, (name, w) in
               enumerate(zip(names, ws, strict=True))]  # fmt: skip
    choices = engine._Choices(members)
    # Inspectors reaching the load cap leave the below-cap list: dropped from the arrays, or excluded.
    if eager:
        choices.remove({*dropped, len(names) + 5})  # an index not listed changes nothing
        capped = choices.catch_up([])
    else:
        capped = choices.catch_up(dropped)
    excluded = excluded | capped
    prefix = f"insp:{unit}:{slot}:"
    base = engine._seed_state(seed).copy()
    base.update(prefix.encode())
    position = engine._lowest(base, choices, excluded)
    left = [m for m in members if m.index not in excluded and m.index not in dropped]
    if not left:
        assert position is None
        return
    best = min(left, key=lambda m: ref_key(seed, prefix + m.id, m.weight))
    assert choices.idx[position] == best.index
    assert engine.key(seed, prefix + choices.names[position], choices.weights[position]) == ref_key(
        seed, prefix + best.id, best.weight
    )
    # Bounds that no key can beat force every level to give up: the exact fallback must agree too.
    choices.bounds = [0] * len(choices.bounds)
    assert choices.idx[engine._lowest(base, choices, excluded)] == best.index


def test_fast_inspector_pick_falls_back_when_the_filtered_ids_cannot_be_trusted():
    """A found case: no heavy id's hash ends in 0, only the light one's does, and its key is above the bound.

    The lowest key among the filtered ids (the light one) is then not the winner: a heavy id is.
    """
    seed = f"{0x4FCF:064x}"
    members = [engine._Inspector(i, f"H{i}", "fire", True, 1000, frozenset(), frozenset()) for i in range(100)]
    members.append(engine._Inspector(100, "L14", "fire", True, 1, frozenset(), frozenset()))
    base = engine._seed_state(seed).copy()
    base.update(b"insp:U1:0:")
    choices = engine._Choices(members)
    best = min(members, key=lambda m: ref_key(seed, "insp:U1:0:" + m.id, m.weight))
    assert best.id != "L14"
    assert choices.idx[engine._lowest(base, choices, set())] == best.index


@st.composite
def crowded_pools(draw) -> dict:
    """Hundreds of inspectors and caps that bind: every inspector reaches the cap, lead slots run dry."""
    r = draw(st.randoms(use_true_random=False))
    n_insp = draw(st.integers(120, 260))
    n_units = draw(st.integers(60, 200))
    units = [
        {"id": f"U{n}", "stratum": r.choice("ab"), "weight": r.choice([50, 100, 150, 200])} for n in range(n_units)
    ]
    days = list(DAYS)
    equal = draw(st.booleans())
    inspectors = [
        inspector(
            f"I{n}",
            lead=r.random() < 0.5,
            weight=100 if equal else r.randint(1, 1000),
            conflicts=[f"U{r.randrange(n_units)}"] if r.random() < 0.1 else [],
            off=[r.choice(days)] if r.random() < 0.1 else [],
        )
        for n in range(n_insp)
    ]
    return {
        "units": units,
        "inspectors": inspectors,
        "quotas": {"a": n_units, "b": draw(st.integers(0, n_units))},
        "slots": [FIRE_LEAD, FIRE_ASSIST],
        "working_days": days,
    }


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example])
@given(pool=crowded_pools(), seed=seeds)
def test_property_large_draws_with_binding_caps_agree_with_the_reference(pool, seed):
    drawn = draw_v1(pool, seed)
    assert drawn == reference_draw(pool, seed)
    check_draw_invariants(pool, seed, drawn)


# ------------------------------------------------------------------------------------------------
# Seed and ceremony
# ------------------------------------------------------------------------------------------------


def test_canonical_and_seed_follow_the_spec_byte_for_byte():
    assert engine.canonical({"b": [1, "随"], "a": None}) == '{"a":null,"b":[1,"随"]}'.encode()
    ph = engine.pool_hash(snapshot_pool())
    assert ph == hashlib.sha256(json.dumps(snapshot_pool(), ensure_ascii=False, sort_keys=True,
                                           separators=(",", ":")).encode("utf-8")).hexdigest()  # fmt: skip
    document = {"spec": "suijian-draw/1", "pool_hash": ph, "secret": SECRET.hex(), "witness": WITNESS}
    expected = hashlib.sha256(
        json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    assert compute_seed_v1(ph, SECRET.hex(), WITNESS) == expected
    assert engine.commitment(SECRET) == hashlib.sha256(SECRET).hexdigest()
    assert len(engine.new_secret()) == 32


def test_witness_values_must_be_normalised_before_seeding():
    decomposed = "e\u0301 12 "  # é as e + combining accent, with a trailing space
    assert engine.normalise_witness(decomposed) == "\u00e9 12"
    ph = "0" * 64
    with pytest.raises(ValueError, match="normalised"):
        compute_seed_v1(ph, SECRET.hex(), [decomposed])
    with pytest.raises(ValueError, match="at least one"):
        compute_seed_v1(ph, SECRET.hex(), [])
    with pytest.raises(ValueError, match="empty"):
        compute_seed_v1(ph, SECRET.hex(), [""])
    with pytest.raises(ValueError, match="hex"):
        compute_seed_v1(ph, SECRET.hex().upper(), ["1"])
    assert compute_seed_v1(ph, SECRET.hex(), [engine.normalise_witness(decomposed)])


@settings(max_examples=40, deadline=None)
@given(first=st.text(min_size=1, max_size=20), second=st.text(min_size=1, max_size=20))
def test_property_different_witness_gives_a_different_seed(first, second):
    a, b = engine.normalise_witness(first), engine.normalise_witness(second)
    assume(a and b and a != b)
    ph = engine.pool_hash(snapshot_pool())
    assert compute_seed_v1(ph, SECRET.hex(), [a]) != compute_seed_v1(ph, SECRET.hex(), [b])
    assert compute_seed_v1(ph, SECRET.hex(), [a, b]) != compute_seed_v1(ph, SECRET.hex(), [b, a])


# ------------------------------------------------------------------------------------------------
# The draw
# ------------------------------------------------------------------------------------------------

SNAPSHOT_SEED = "f68541410c0a11057b2f9d91f1266f38d20337aa4bafc6104538d65b1ade835f"
SNAPSHOT_TASKS = [  # (unit, planned date, lead, assist)
    ("U01", "2026-12-01", "I2", "I4"),
    ("U04", "2026-12-02", "I3", "I1"),
    ("U06", "2026-12-03", "I3", "I1"),
    ("U08", "2026-12-01", "I3", "I2"),
    ("U03", "2026-12-02", "I1", "I5"),
]


def test_pinned_snapshot():
    """A small fixed pool and seed: the exact result, checked by hand once and pinned.

    Hand check: 1 of 2 key_crowded, 2 of 3 key and 2 of 3 general units; dates cycle over the three
    working days; leads are can-lead inspectors (I1-I3); I4 (conflicted with U03) is not on U03; I2 (off
    on 12-02) has no 12-02 task.  Caps: S = 5 tasks x 2 slots = 10, W = 500, so ceil(10w/500) = 2, 2,
    3, 2, 1 for I1..I5.  I1 ends with 3 > 2: for U03's lead slot on 12-02 the only candidates were I1
    (load 2, cap 2) and I3 (3 of 3; I2 is off that day), none below cap, so all stay and I1 wins on key.
    U03's assist slot then prefers I5, the only candidate still below cap.
    """
    pool = snapshot_pool()
    seed = engine.compute_seed(engine.pool_hash(pool), SECRET.hex(), WITNESS, engine.SPEC_V1)
    assert seed == SNAPSHOT_SEED
    drawn = draw_v1(pool, seed)
    expected = [
        {
            "unit_id": unit,
            "planned_date": day,
            "assignments": [{"slot": 0, "inspector_id": lead}, {"slot": 1, "inspector_id": assist}],
        }
        for unit, day, lead, assist in SNAPSHOT_TASKS
    ]
    assert drawn == {"result": expected, "unfillable": []}
    assert drawn == reference_draw(pool, seed)
    assert engine.feasibility(pool) == []


def check_draw_invariants(pool: dict, seed: str, drawn: dict) -> None:
    units = {u["id"]: u for u in pool["units"]}
    inspectors = {i["id"]: i for i in pool["inspectors"]}
    result = drawn["result"]
    drawn_ids = [t["unit_id"] for t in result]
    assert len(drawn_ids) == len(set(drawn_ids)), "a unit was drawn twice"
    # quotas: min(quota, stratum size) per stratum
    for stratum in {u["stratum"] for u in pool["units"]}:
        size = sum(1 for u in pool["units"] if u["stratum"] == stratum)
        got = sum(1 for uid in drawn_ids if units[uid]["stratum"] == stratum)
        assert got == min(pool["quotas"].get(stratum, 0), size)
    # task order is key order; dates cycle over the working days
    keys = [engine.key(seed, "unit:" + uid, units[uid]["weight"]) for uid in drawn_ids]
    assert keys == sorted(keys)
    days = pool["working_days"]
    assert [t["planned_date"] for t in result] == [days[i % len(days)] for i in range(len(result))]
    unfillable = {(u["unit_id"], u["slot"]) for u in drawn["unfillable"]}
    for task in result:
        assert set(task) == {"unit_id", "planned_date", "assignments"}
        assert [a["slot"] for a in task["assignments"]] == list(range(len(pool["slots"])))
        on_task = [a["inspector_id"] for a in task["assignments"] if a["inspector_id"] is not None]
        assert len(on_task) == len(set(on_task)), "an inspector twice on one task"
        for a in task["assignments"]:
            if a["inspector_id"] is None:
                assert (task["unit_id"], a["slot"]) in unfillable
                continue
            person, slot = inspectors[a["inspector_id"]], pool["slots"][a["slot"]]
            assert person["dept"] == slot["dept"]
            assert task["unit_id"] not in person["conflicts"], "conflicted inspector drawn"
            assert task["planned_date"] not in person["unavailable"], "unavailable inspector drawn"
            if slot["role"] == "lead":
                assert person["can_lead"]


@PROPERTY
@given(pool=pools(), seed=seeds)
def test_property_draw_invariants_and_agreement_with_the_reference(pool, seed):
    drawn = draw_v1(pool, seed)
    assert drawn == reference_draw(pool, seed)
    assert draw_v1(copy.deepcopy(pool), seed) == drawn, "same pool and seed, same result"
    check_draw_invariants(pool, seed, drawn)


@PROPERTY
@given(pool=pools(), seed=seeds)
def test_property_feasible_pools_are_always_fully_staffed(pool, seed):
    problems = engine.feasibility(pool)
    drawn = draw_v1(pool, seed)
    if not problems:
        assert drawn["unfillable"] == []
        assert all(a["inspector_id"] for t in drawn["result"] for a in t["assignments"])
    if drawn["unfillable"]:
        assert problems, "feasibility missed a pool that can leave a slot empty"
    assert all("reason" in p for p in problems)


@st.composite
def roomy_pools(draw) -> dict:
    """One slot per dept, no conflicts, nobody away, everyone may lead: the caps must hold exactly."""
    depts = draw(st.lists(st.sampled_from(["fire", "market", "safety"]), min_size=1, max_size=3, unique=True))
    inspectors = [
        inspector(f"I{d}{n}", dept, weight=draw(weights))
        for d, dept in enumerate(depts)
        for n in range(draw(st.integers(1, 6)))
    ]
    units = [{"id": f"U{n}", "stratum": "s", "weight": draw(weights)} for n in range(draw(st.integers(1, 30)))]
    return {
        "units": units,
        "inspectors": inspectors,
        "quotas": {"s": draw(st.integers(1, 30))},
        "slots": [{"dept": d, "role": draw(st.sampled_from(["lead", "assist"]))} for d in depts],
        "working_days": list(DAYS),
    }


@PROPERTY
@given(pool=roomy_pools(), seed=seeds)
def test_property_load_caps_hold_when_there_is_room(pool, seed):
    drawn = draw_v1(pool, seed)
    assert not drawn["unfillable"]
    tasks = len(drawn["result"])
    load: dict[str, int] = defaultdict(int)
    for task in drawn["result"]:
        for a in task["assignments"]:
            load[a["inspector_id"]] += 1
    for person in pool["inspectors"]:
        members = [i for i in pool["inspectors"] if i["dept"] == person["dept"]]
        cap = math.ceil(Fraction(tasks * person["weight"], sum(i["weight"] for i in members)))
        assert load[person["id"]] <= cap


def test_draw_with_many_units_and_inspectors_agrees_with_the_reference():
    """Large enough for the fast selection to filter (units and inspectors), small enough to brute-force."""
    pool = {
        "units": [
            {"id": f"U{n}", "stratum": "key" if n % 5 == 0 else "general", "weight": 50 + (n * 37) % 300}
            for n in range(2500)
        ],
        "inspectors": [
            inspector(f"I{n}", lead=n % 4 != 0, weight=50 + (n * 13) % 200, conflicts=[f"U{n * 7}"]) for n in range(400)
        ],
        "quotas": {"key": 12, "general": 20},
        "slots": [FIRE_LEAD, FIRE_ASSIST],
        "working_days": list(DAYS),
    }
    seed = "7" * 64
    drawn = draw_v1(pool, seed)
    assert drawn == reference_draw(pool, seed)
    check_draw_invariants(pool, seed, drawn)


def test_unfillable_slot_is_reported_and_never_dropped():
    pool = snapshot_pool()
    pool["inspectors"] = [inspector("I1"), inspector("I2", lead=False, conflicts=["U01"])]
    pool["quotas"] = {"key_crowded": 2}
    drawn = draw_v1(pool, "1" * 64)
    by_unit = {t["unit_id"]: t for t in drawn["result"]}
    assert by_unit["U01"]["assignments"][1] == {"slot": 1, "inspector_id": None}
    assert {"unit_id": "U01", "slot": 1, "planned_date": by_unit["U01"]["planned_date"]} in drawn["unfillable"]
    assert all(len(t["assignments"]) == 2 for t in drawn["result"])
    reasons = {(p["reason"], p["unit_id"], p["slot"]) for p in engine.feasibility(pool)}
    assert ("may_be_blocked", "U01", 1) in reasons  # only I1 is left, and slot 0 takes I1


def test_feasibility_finds_a_lead_slot_an_earlier_assist_slot_can_starve():
    pool = snapshot_pool()
    pool["inspectors"] = [inspector("I1"), inspector("I2", lead=False)]
    pool["slots"] = [FIRE_ASSIST, FIRE_LEAD]
    problems = engine.feasibility(pool)
    assert {"may_be_blocked"} == {p["reason"] for p in problems}
    assert problems[0]["slot"] == 1
    assert problems[0]["candidates"] == ["I1"]
    assert problems[0]["blocked_by"] == [0]
    assert problems[0]["unit_id"] is None
    pool["slots"] = [FIRE_LEAD, FIRE_ASSIST]  # lead first: always fillable
    assert engine.feasibility(pool) == []


def test_feasibility_reports_empty_days_and_structure_without_drawing():
    pool = snapshot_pool()
    for person in pool["inspectors"]:
        person["unavailable"] = ["2026-12-03"]
    problems = engine.feasibility(pool)
    assert {(p["reason"], p["date"], p["unit_id"]) for p in problems} == {("no_candidate", "2026-12-03", None)}
    assert "result" not in json.dumps(problems)
    pool["working_days"] = []
    assert {"reason": "no_working_days"} in engine.feasibility(pool)
    pool["quotas"] = {}
    assert engine.feasibility(pool) == [{"reason": "no_tasks"}]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda p: p["units"][0].update(weight=0), r"units\[0\]: weight"),
        (lambda p: p["units"][1].update(weight=True), r"units\[1\]: weight"),
        (lambda p: p["units"][2].update(id="U 3"), r"units\[2\]\.id"),
        (lambda p: p["units"].append({"id": "U01", "stratum": "key", "weight": 1}), "U01 appears twice"),
        (lambda p: p["inspectors"][0].update(weight=1001), r"inspectors\[0\]: weight"),
        (lambda p: p["inspectors"].append(inspector("I1")), "I1 appears twice"),
        (lambda p: p["quotas"].update(key=-1), "quotas"),
        (lambda p: p.pop("slots"), "slots"),
        (lambda p: p["working_days"].append(DAYS[0]), "twice"),
    ],
)
def test_invalid_pools_are_refused(mutate, message):
    pool = snapshot_pool()
    mutate(pool)
    with pytest.raises(ValueError, match=message):
        draw_v1(pool, "0" * 64)


# ------------------------------------------------------------------------------------------------
# Replacement
# ------------------------------------------------------------------------------------------------


def test_replacement_rounds_exclude_everyone_ever_on_the_task_and_ignore_the_reason():
    pool = snapshot_pool()
    pool["inspectors"] += [inspector(f"R{n}", weight=100 + n) for n in range(6)]
    bundle = make_bundle(pool, plan=[(0, 0, "病假"), (0, 0, "出差")])
    first, second = bundle["replacements"]
    task = bundle["result"][0]
    original = {a["inspector_id"] for a in task["assignments"]}
    assert first["round"] == 1 and second["round"] == 2
    assert first["out"] == task["assignments"][0]["inspector_id"]
    assert second["out"] == first["in"]
    assert first["in"] not in original
    assert second["in"] not in original | {first["in"], first["out"]}
    assert first["out"] not in second["candidates"] and first["in"] not in second["candidates"]
    assert not original & set(first["candidates"])
    assert first["in"] == first["candidates"][0]
    assert engine.verify_bundle(bundle) == []
    # The reason is recorded but does not influence who is drawn.
    other = make_bundle(pool, plan=[(0, 0, "会议冲突"), (0, 0, "回避")])
    assert [r["in"] for r in other["replacements"]] == [first["in"], second["in"]]
    # The winner is the lowest replacement key among the candidates.
    seed = bundle["seed"]
    weight = {i["id"]: i["weight"] for i in pool["inspectors"]}
    keys = {c: ref_key(seed, f"repl:{task['unit_id']}:0:2:{c}", weight[c]) for c in second["candidates"]}
    assert second["in"] == min(keys, key=keys.get)


def test_replacement_uses_availability_at_the_moment_and_a_recorded_candidate_list():
    pool = snapshot_pool()
    seed = "5" * 64
    task = draw_v1(pool, seed)["result"][0]
    ever = engine.ever_assigned_to(task, [])
    everyone = engine.replacement_candidates(pool, task, 1, ever)
    assert everyone, "the snapshot pool has spare fire inspectors"
    winner, ranked, _ = engine.replace(pool, seed, task, 1, 1, ever, spec=engine.SPEC_V1)
    assert winner == ranked[0] and sorted(ranked) == everyone
    # the winner falls ill too: recorded now, they are no longer a candidate
    winner2, ranked2, _ = engine.replace(
        pool, seed, task, 1, 1, ever, spec=engine.SPEC_V1, unavailable_now={winner: [task["planned_date"]]}
    )
    assert winner not in ranked2 and winner2 != winner
    # the verifier's path: exactly the recorded candidates are ranked
    again = engine.replace(pool, seed, task, 1, 1, set(), spec=engine.SPEC_V1, candidates=list(reversed(ranked2)))
    assert again == (winner2, ranked2, [])
    assert engine.check_replacement_candidates(pool, task, 1, ever, ranked2) == []
    problems = engine.check_replacement_candidates(pool, task, 1, ever, [*ranked2, next(iter(ever))])
    assert problems and "already assigned" in problems[0]


# ------------------------------------------------------------------------------------------------
# Verification
# ------------------------------------------------------------------------------------------------


def test_a_correct_bundle_passes_also_after_a_json_round_trip():
    bundle = make_bundle(snapshot_pool(), plan=[(1, 1, "病假")])
    assert engine.verify_bundle(bundle) == []
    assert engine.verify_bundle(json.loads(json.dumps(bundle, ensure_ascii=False))) == []


def test_an_unpublished_bundle_says_the_secret_is_not_revealed():
    bundle = make_bundle(snapshot_pool())
    bundle["server_secret"] = None
    assert engine.verify_bundle(bundle) == ["secret not yet revealed (draw not published)"]


@pytest.mark.parametrize(
    ("tamper", "first_difference"),
    [
        (lambda b: b["pool"]["units"][0].update(weight=151), "pool_hash does not match"),
        (lambda b: b.update(pool_hash="0" * 64), "pool_hash does not match"),
        (lambda b: b.update(server_secret="ab" * 32), "commitment does not match sha256(server_secret)"),
        (lambda b: b.update(commitment="0" * 64), "commitment does not match"),
        (lambda b: b["witness"].__setitem__(0, "31415926535897932385"), "seed does not match"),
        (lambda b: b.update(seed="0" * 64), "seed does not match"),
        (lambda b: b["result"].reverse(), "result task 1: expected unit U01 got U03"),
        (lambda b: b["result"].pop(), "result has 4 tasks, expected 5"),
        (
            lambda b: b["result"][2].update(planned_date="2026-12-01"),
            "result task 3: unit U06: expected planned date 2026-12-03 got 2026-12-01",
        ),
        (
            lambda b: b["result"][1]["assignments"][1].update(inspector_id="I4"),
            "result task 2: unit U04 slot 1: expected inspector I1 got I4",
        ),
        (lambda b: b["replacements"][0].update(reason=""), "no reason recorded"),
        (lambda b: b["replacements"][0].update(round=2), "recorded round is 2, expected 1"),
        (lambda b: b["replacements"][0]["candidates"].append("I2"), "candidate I2 was already assigned"),
        (lambda b: b["replacements"][0].update(unit_id="U07"), "unit 'U07' is not a task"),
        (lambda b: b.update(spec="suijian-draw/2"), "the bundle lacks"),
        (lambda b: b.update(spec="suijian-draw/3"), "spec is 'suijian-draw/3'"),
        (lambda b: b["excluded"].append({"unit_id": "U01", "reason": "x"}), "excluded unit U01 is also in the pool"),
    ],
)
def test_tampered_bundles_fail_with_the_first_difference(tamper, first_difference):
    bundle = make_bundle(snapshot_pool(), plan=[(0, 1, "病假")])
    assert engine.verify_bundle(bundle) == []
    tamper(bundle)
    problems = engine.verify_bundle(bundle)
    assert problems, "tampering went unnoticed"
    assert first_difference in problems[0]


def test_a_replacement_with_the_wrong_winner_fails():
    pool = snapshot_pool()
    pool["inspectors"] += [inspector(f"R{n}") for n in range(4)]
    bundle = make_bundle(pool, plan=[(0, 1, "病假")])
    entry = bundle["replacements"][0]
    entry["in"] = entry["candidates"][1]
    assert engine.verify_bundle(bundle)[0] == (
        f"replacement 1 (unit {entry['unit_id']}, slot 1, round 1): "
        f"expected in {entry['candidates'][0]} got {entry['candidates'][1]}"
    )


TAMPERS = ["unit_weight", "inspector_weight", "witness", "secret", "result", "replacement"]


@PROPERTY
@given(pool=pools(max_units=12, max_inspectors=7), witness=st.text(min_size=1, max_size=12), data=st.data())
def test_property_tampering_with_a_bundle_is_detected(pool, witness, data):
    witness = engine.normalise_witness(witness)
    assume(witness)
    drawn_any = draw_v1(pool, "0" * 64)["result"]
    plan = []
    if drawn_any and pool["slots"]:
        plan = [(0, 0, "病假")]
    bundle = make_bundle(pool, witness=[witness], plan=plan)
    assert engine.verify_bundle(copy.deepcopy(bundle)) == []

    kind = data.draw(st.sampled_from(TAMPERS))
    if kind == "unit_weight":
        assume(pool["units"])
        unit = bundle["pool"]["units"][0]
        unit["weight"] = unit["weight"] % 1000 + 1
    elif kind == "inspector_weight":
        assume(pool["inspectors"])
        person = bundle["pool"]["inspectors"][0]
        person["weight"] = person["weight"] % 1000 + 1
    elif kind == "witness":
        bundle["witness"] = [witness + "0"]
    elif kind == "secret":
        bundle["server_secret"] = bytes(b ^ 1 for b in SECRET).hex()
    elif kind == "result":
        assume(bundle["result"] and bundle["result"][0]["assignments"])
        first = bundle["result"][0]["assignments"][0]
        first["inspector_id"] = "I-forged"
    else:
        assume(bundle["replacements"])
        entry = bundle["replacements"][0]
        entry["in"] = "I-forged"
    problems = engine.verify_bundle(bundle)
    assert problems and all(isinstance(p, str) and p for p in problems)


# ------------------------------------------------------------------------------------------------
# The command line: the file alone, and the module
# ------------------------------------------------------------------------------------------------


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


def test_standalone_verify_py_alone_in_an_empty_directory(tmp_path):
    shutil.copy(VERIFY_FILE, tmp_path / "verify.py")
    good = make_bundle(snapshot_pool(), plan=[(0, 1, "病假")])
    (tmp_path / "bundle.json").write_text(json.dumps(good, ensure_ascii=False), encoding="utf-8")
    bad = copy.deepcopy(good)
    bad["result"][0]["unit_id"] = "U08"
    (tmp_path / "tampered.json").write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")

    passed = _run(["-I", "verify.py", "bundle.json"], tmp_path)
    assert passed.returncode == 0, passed.stderr
    assert passed.stdout.splitlines()[:3] == ["PASS", "draw: D1", "spec: suijian-draw/1"]
    assert "Compare pool_hash and commitment" in passed.stdout

    failed = _run(["-I", "verify.py", "tampered.json"], tmp_path)
    assert failed.returncode == 1
    assert failed.stdout == "FAIL: result task 1: expected unit U01 got U08\n"

    missing = _run(["-I", "verify.py", "nowhere.json"], tmp_path)
    assert missing.returncode == 2 and "cannot read nowhere.json" in missing.stderr

    broken = _run(["-I", "verify.py", "broken.json"], tmp_path)
    assert broken.returncode == 2 and "not valid JSON" in broken.stderr

    usage = _run(["-I", "verify.py"], tmp_path)
    assert usage.returncode == 2 and "usage" in usage.stderr


def test_python_dash_m_webapp_draw_verify(tmp_path):
    bundle = make_bundle(snapshot_pool())
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    ran = _run(["-m", "webapp.draw.verify", str(path)], REPO)
    assert (ran.returncode, ran.stdout.splitlines()[0]) == (0, "PASS"), ran.stderr
    bundle["server_secret"] = None
    path.write_text(json.dumps(bundle), encoding="utf-8")
    ran = _run(["-m", "webapp.draw.verify", str(path)], REPO)
    assert (ran.returncode, ran.stdout) == (1, "FAIL: secret not yet revealed (draw not published)\n")


def test_main_in_process(tmp_path, capsys):
    path = tmp_path / "b.json"
    path.write_text(json.dumps(make_bundle(snapshot_pool())), encoding="utf-8")
    assert engine.main([str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "PASS"
    path.write_text("[1, 2]", encoding="utf-8")
    assert engine.main([str(path)]) == 2
    assert "not a draw bundle" in capsys.readouterr().err


def test_v1_bundles_still_pass():
    bundle = make_bundle(snapshot_pool(), plan=[(0, 1, "病假")])
    assert bundle["spec"] == engine.SPEC_V1
    assert engine.verify_bundle(bundle) == []
