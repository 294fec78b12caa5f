"""The engine under ``suijian-draw/2``, checked against ``spec_plain`` (a plain implementation of the spec text).

Bundles here are built by ``spec_plain.build_bundle`` (never by the engine), so the verifier is checked
against an independent reading of DRAW_SPEC.md.
"""

from __future__ import annotations

import ast
import copy
import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import consistent_sampler
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.draw import spec_plain as plain
from webapp.draw import engine

REPO = Path(__file__).resolve().parents[2]
ENGINE_FILE = REPO / "webapp" / "draw" / "engine.py"
DAYS = ["2027-01-04", "2027-01-05", "2027-01-06", "2027-01-07"]
LEAD = {"dept": "fire", "role": "lead"}
ASSIST = {"dept": "fire", "role": "assist"}
SECRET = bytes(range(32))
RSECRET = bytes(range(100, 132))
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def ins(iid: str, dept: str = "fire", *, lead: bool = True, weight: int = 100, conflicts=(), off=()) -> dict:
    return {
        "id": iid,
        "dept": dept,
        "can_lead": lead,
        "weight": weight,
        "conflicts": sorted(set(conflicts)),
        "unavailable": sorted(set(off)),
    }


def example_pool() -> dict:
    return {
        "units": [
            {"id": f"U{n:02d}", "stratum": "key" if n % 3 == 0 else "general", "weight": 100 + 10 * n}
            for n in range(12)
        ],
        "inspectors": [
            ins("I1"),
            ins("I2", off=["2027-01-05"]),
            ins("I3", weight=150),
            ins("I4", lead=False, conflicts=["U03"]),
            ins("I5", lead=False, weight=50),
            ins("I6", lead=False),
            ins("I7", lead=False, weight=200),
        ],
        "quotas": {"general": 4, "key": 2},
        "slots": [LEAD, ASSIST],
        "working_days": DAYS[:3],
        "excluded": [{"unit_id": "U99", "reason": "twice_this_year"}],
    }


def closed_bundle(**kw) -> dict:
    refills = kw.pop(
        "refills", [(0, 1, "病假", {"I6": "leave"}), (0, 1, "出差", {}), (2, 0, "回避", {"I1": "conflict"})]
    )
    return plain.build_bundle(
        example_pool(),
        server_secret=SECRET,
        replacement_secret=RSECRET,
        witness=["31415", "王 27"],
        refills=refills,
        **kw,
    )


# ------------------------------------------------------------------------------------------------ strategies

weights = st.one_of(st.sampled_from([1, 50, 100, 150, 1000]), st.integers(1, 1000))


@st.composite
def pools(draw, max_units: int = 14, max_inspectors: int = 9) -> dict:
    strata = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3, unique=True))
    units = [
        {"id": f"U{n:02d}", "stratum": draw(st.sampled_from(strata)), "weight": draw(weights)}
        for n in range(draw(st.integers(0, max_units)))
    ]
    unit_ids = [u["id"] for u in units]
    depts = draw(st.lists(st.sampled_from(["fire", "market"]), min_size=1, max_size=2, unique=True))
    days = DAYS[: draw(st.integers(1, 4))]
    inspectors = [
        ins(
            f"I{n}",
            draw(st.sampled_from(depts)),
            lead=draw(st.booleans()),
            weight=draw(weights),
            conflicts=draw(st.lists(st.sampled_from(unit_ids), max_size=3)) if unit_ids else [],
            off=draw(st.lists(st.sampled_from(days), max_size=2)),
        )
        for n in range(draw(st.integers(0, max_inspectors)))
    ]
    slots = []
    for dept in depts:  # each department's lead slot (if any) first
        roles = draw(st.lists(st.sampled_from(["assist", "check"]), max_size=2))
        slots += [{"dept": dept, "role": r} for r in (["lead"] if draw(st.booleans()) else []) + roles]
    return {
        "units": units,
        "inspectors": inspectors,
        "quotas": {s: draw(st.integers(0, 6)) for s in strata},
        "slots": slots,
        "working_days": days,
        "excluded": [],
    }


seeds = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)


# ------------------------------------------------------------------------------------------------ the file


def test_engine_parses_as_python_3_8_and_imports_only_the_standard_library():
    source = ENGINE_FILE.read_text(encoding="utf-8")
    tree = ast.parse(source, feature_version=(3, 8))
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}
    code = "\n".join(line.split("#")[0] for line in source.splitlines())  # comments dropped (and a bit more)
    for newer in ("TypeGuard", "removeprefix", "removesuffix", "strict=", "datetime.UTC", "bit_count", "pairwise"):
        assert newer not in code, newer


def _python38() -> str | None:
    for candidate in (str(Path.home() / ".pyenv/versions/3.8.18/bin/python"), shutil.which("python3.8")):
        if candidate and Path(candidate).exists():
            ran = subprocess.run([candidate, "-I", "-c", "pass"], capture_output=True, timeout=30, check=False)
            if ran.returncode == 0:
                return candidate
    return None


@pytest.mark.skipif(_python38() is None, reason="no Python 3.8 interpreter on this machine")
def test_verify_py_runs_on_python_3_8(tmp_path):
    shutil.copy(ENGINE_FILE, tmp_path / "verify.py")
    (tmp_path / "bundle.json").write_text(json.dumps(closed_bundle(), ensure_ascii=False), encoding="utf-8")
    ran = subprocess.run(
        [_python38(), "-I", "verify.py", "bundle.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (ran.returncode, ran.stdout.splitlines()[0]) == (0, "PASS"), ran.stdout + ran.stderr


def test_spec_names():
    assert (engine.SPEC, engine.SPEC_V1, engine.SPECS) == (
        "suijian-draw/2",
        "suijian-draw/1",
        ("suijian-draw/1", "suijian-draw/2"),
    )


# ------------------------------------------------------------------------------------------------ seeds, log


def test_seeds_and_heads_follow_the_spec_byte_for_byte():
    ph = "ab" * 32
    assert engine.compute_seed(ph, SECRET.hex(), ["1", "二"]) == plain.seed_of(ph, SECRET.hex(), ["1", "二"])
    assert engine.compute_seed(ph, SECRET.hex(), ["1"], engine.SPEC_V1) != plain.seed_of(ph, SECRET.hex(), ["1"])
    seed = plain.seed_of(ph, SECRET.hex(), ["1"])
    assert engine.replacement_seed(seed, RSECRET.hex()) == plain.rseed_of(seed, RSECRET.hex())
    assert engine.head0("D-1") == plain.head0("D-1")
    event = engine.make_event(1, "witness", "2027-01-01T02:00:00Z", {"value": "王 1"})
    assert event == {"n": 1, "type": "witness", "at": "2027-01-01T02:00:00Z", "data": {"value": "王 1"}}
    assert engine.next_head("0" * 64, event) == plain.next_head("0" * 64, event)
    assert engine.log_heads("D-1", [event, event]) == [
        plain.next_head(plain.head0("D-1"), event),
        plain.next_head(plain.next_head(plain.head0("D-1"), event), event),
    ]
    import datetime as dt

    aware = dt.datetime(2027, 1, 1, 10, 0, 5, 999, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert engine.make_event(2, "draw", aware, {"result_hash": "x"})["at"] == "2027-01-01T02:00:05Z"
    for bad in (
        lambda: engine.make_event(1, "witness", "2027-01-01 02:00:00", {"value": "1"}),
        lambda: engine.make_event(1, "vote", "2027-01-01T02:00:00Z", {}),
        lambda: engine.make_event(1, "witness", "2027-01-01T02:00:00Z", {"value": "1", "x": 2}),
        lambda: engine.make_event(0, "witness", "2027-01-01T02:00:00Z", {"value": "1"}),
    ):
        with pytest.raises(ValueError):
            bad()


def test_uniform_and_ticket_are_the_plain_ones():
    for s in ("insp:U1:0#0", "repl:U1:1:2#63", "unit:x"):
        assert engine.uniform("seed", s, 977) == plain.uniform("seed", s, 977)
        assert engine.key("seed", s, 150) == plain.key("seed", s, 150)


# ------------------------------------------------------------------------------------------------ the draw


@PROPERTY
@given(pool=pools(), seed=seeds)
def test_property_draw_equals_the_plain_implementation(pool, seed):
    assert engine.canonical_pool_problem(pool) is None
    assert engine.draw(pool, seed) == plain.draw(pool, seed)
    n = len(engine.draw(pool, seed)["result"])
    assert {
        i: (c["lead"], c["assist"]) for i, c in engine.load_caps(pool, n).items() if i in plain.caps(pool, n)
    } == plain.caps(pool, n)


@PROPERTY
@given(pool=pools(max_units=10, max_inspectors=9), seed=seeds, data=st.data())
def test_property_replacements_equal_the_plain_implementation(pool, seed, data):
    result = engine.draw(pool, seed)["result"]
    if not result or not pool["slots"]:
        return
    rseed = engine.replacement_seed(seed, RSECRET.hex())
    task = data.draw(st.sampled_from(result))
    ever = {a["inspector_id"] for a in task["assignments"] if a["inspector_id"]}
    for r in range(1, 4):
        k = data.draw(st.integers(0, len(pool["slots"]) - 1))
        ids = [i["id"] for i in pool["inspectors"]]
        away = data.draw(st.lists(st.sampled_from(ids), max_size=3)) if ids else []
        reasons = {i: data.draw(st.sampled_from(engine.EXCLUSION_REASONS)) for i in away}
        got = engine.replace(pool, rseed, task, k, r, ever, reasons)
        assert got == plain.replace(pool, rseed, task, k, r, ever, reasons)
        if got[0] is None:
            break
        ever.add(got[0])


@pytest.mark.parametrize("seed", ["01382438112797316654", "f" * 64, "随检"])
def test_equal_weights_rank_units_as_consistent_sampler(seed):
    unit_ids = [f"u-{n}" for n in range(60)]
    pool = {
        "units": [{"id": u, "stratum": "s", "weight": 100} for u in sorted(unit_ids)],
        "inspectors": [],
        "quotas": {"s": 60},
        "slots": [],
        "working_days": DAYS,
        "excluded": [],
    }
    order = [t["unit_id"] for t in engine.draw(pool, seed)["result"]]
    expected = list(consistent_sampler.sampler(["unit:" + u for u in sorted(unit_ids)], seed=seed, output="id"))
    assert ["unit:" + u for u in order] == expected


@PROPERTY
@given(seed=seeds, n_insp=st.integers(3, 12), n_units=st.integers(5, 40), data=st.data())
def test_property_caps_never_exceeded_while_a_preferred_candidate_exists(seed, n_insp, n_units, data):
    pool = {
        "units": [{"id": f"U{n:02d}", "stratum": "s", "weight": 100} for n in range(n_units)],
        "inspectors": [
            ins(
                f"I{n:02d}",
                lead=data.draw(st.booleans()) or n == 0,
                weight=data.draw(weights),
                off=data.draw(st.lists(st.sampled_from(DAYS), max_size=2)),
            )
            for n in range(n_insp)
        ],
        "quotas": {"s": n_units},
        "slots": [LEAD, ASSIST],
        "working_days": DAYS,
        "excluded": [],
    }
    drawn = engine.draw(pool, seed)["result"]
    caps = engine.load_caps(pool, len(drawn))
    by_id = {i["id"]: i for i in pool["inspectors"]}
    counts: dict[str, Counter] = {"lead": Counter(), "assist": Counter()}
    for task in drawn:
        on_task: set[str] = set()
        for a, slot in zip(task["assignments"], pool["slots"], strict=True):
            role = "lead" if slot["role"] == "lead" else "assist"
            who = a["inspector_id"]
            candidates = [
                i
                for i in by_id.values()
                if (role == "assist" or i["can_lead"])
                and i["id"] not in on_task
                and task["planned_date"] not in i["unavailable"]
            ]
            below = [i["id"] for i in candidates if counts[role][i["id"]] < caps[i["id"]][role]]
            if who is not None:
                if below:
                    assert who in below, "a pick passed its cap although a preferred candidate existed"
                counts[role][who] += 1
                on_task.add(who)


def test_picks_follow_the_weights():
    """Among always-preferred candidates the weighted sampling picks in proportion to weight (chi-square)."""
    pool = {
        "units": [{"id": f"U{n:03d}", "stratum": "s", "weight": 100} for n in range(400)],
        "inspectors": [ins("I1", weight=100), ins("I2", weight=200), ins("I3", weight=300), ins("I4", weight=400)],
        "quotas": {"s": 400},
        "slots": [LEAD],
        "working_days": DAYS,
        "excluded": [],
    }
    # caps do not bind: with a single slot and caps in proportion to weight, count the first pick per
    # task over many seeds instead, where everyone is below the cap.
    counts: Counter = Counter()
    for n in range(400):
        seed = plain.H(f"weights-{n}".encode())
        first = engine.draw(pool, seed)["result"][0]["assignments"][0]["inspector_id"]
        counts[first] += 1
    expected = {"I1": 40, "I2": 80, "I3": 120, "I4": 160}
    chi2 = sum((counts[i] - e) ** 2 / e for i, e in expected.items())
    assert chi2 < 16.3, (counts, chi2)  # 3 degrees of freedom, p = 0.001
    # and over a whole draw the loads follow the caps, which follow the weights
    loads = Counter(t["assignments"][0]["inspector_id"] for t in engine.draw(pool, "1" * 64)["result"])
    caps = engine.load_caps(pool, 400)
    assert all(loads[i] <= caps[i]["lead"] for i in loads)
    assert [caps[i]["lead"] for i in ("I1", "I2", "I3", "I4")] == [40, 80, 120, 160]


def test_caps_share_leading_and_assisting_by_availability():
    pool = example_pool()
    caps = engine.load_caps(pool, 30)
    assert caps == {i: {"lead": c[0], "assist": c[1]} for i, c in plain.caps(pool, 30).items()}
    # I2 is away one of three days: it leads less than I1 of the same weight; non-leaders carry the assisting
    assert caps["I2"]["lead"] < caps["I1"]["lead"]
    assert caps["I4"]["assist"] > caps["I1"]["assist"]


def test_canonical_pool_form_is_enforced():
    for mutate, message in [
        (lambda p: p["units"].reverse(), "sorted by id"),
        (lambda p: p["inspectors"].reverse(), "sorted by id"),
        (lambda p: p["inspectors"][1].update(unavailable=["2027-01-05", "2027-01-05"]), "without repeats"),
        (lambda p: p.update(slots=[ASSIST, LEAD]), "lead slot"),
        (lambda p: p["excluded"].insert(0, {"unit_id": "U01", "reason": "x"}), "also in the pool"),
        (lambda p: p.pop("excluded"), "keys must be exactly"),
        (lambda p: p["quotas"].pop("key"), "has no quota"),
        (lambda p: p["working_days"].reverse(), "ascending"),
    ]:
        pool = example_pool()
        mutate(pool)
        assert message in (engine.canonical_pool_problem(pool) or ""), message
        with pytest.raises(ValueError):
            engine.validate_pool(pool, engine.SPEC)


# ------------------------------------------------------------------------------------------------ verification


def test_a_plainly_built_closed_bundle_verifies():
    bundle = closed_bundle()
    assert len(bundle["replacements"]) == 3
    assert engine.verify_bundle(bundle) == []
    assert engine.verify_bundle(json.loads(json.dumps(bundle, ensure_ascii=False))) == []
    lines = engine.summary(bundle)
    assert lines[:3] == ["draw: D-PLAIN", "spec: suijian-draw/2", "status: closed"]
    assert (
        f"log head: {bundle['log_head']}" in lines
        and f"replacement_commitment: {bundle['replacement_commitment']}" in lines
    )
    assert "public register" in lines[-1]


def test_published_not_closed_checks_candidates_and_reports_pending():
    bundle = closed_bundle(close=False)
    assert bundle["replacement_secret"] is None and bundle["rseed"] is None
    assert engine.verify_bundle(bundle) == []
    assert "递补 pending closing: 3" in engine.summary(bundle)
    leaked = copy.deepcopy(bundle)
    leaked["rseed"] = "0" * 64
    assert "must be null until the draw is closed" in engine.verify_bundle(leaked)[0]


def test_abandoned_and_unpublished_bundles():
    abandoned = plain.build_bundle(
        example_pool(), server_secret=SECRET, replacement_secret=RSECRET, witness=["1"], abandon="名录有误"
    )
    assert engine.verify_bundle(abandoned) == []
    assert "(abandoned: 名录有误)" in engine.summary(abandoned)[2]
    early = closed_bundle(close=False)
    early["draw"]["status"] = "drawn"
    assert "draw not published" in engine.verify_bundle(early)[0]


def _replacement_event(bundle: dict, seq: int) -> dict:
    return [e for e in bundle["log"] if e["type"] == "replace"][seq - 1]


def reseal(bundle: dict) -> None:
    """Recompute log_head (a forger would): detection must not depend on the head alone."""
    bundle["log_head"] = engine.log_heads(bundle["draw"]["id"], bundle["log"])[-1]


TAMPERS = {
    "delete a replacement": lambda b: b["replacements"].pop(1),
    "delete a replacement and its event": lambda b: (
        b["log"].remove(_replacement_event(b, 3)),
        b["replacements"].pop(),
    ),
    "edit a replacement's reason": lambda b: b["replacements"][0].update(reason="事假"),
    "edit a replacement's winner": lambda b: b["replacements"][0].update(**{"in": "I3"}),
    "drop an exclusion": lambda b: b["replacements"][0]["excluded_now"].pop(),
    "move an exclusion to candidates": lambda b: (
        b["replacements"][0]["excluded_now"].pop(),
        b["replacements"][0]["candidates"].append("I6"),
    ),
    "edit an exclusion reason": lambda b: b["replacements"][0]["excluded_now"][0].update(reason="frozen"),
    "edit a logged witness": lambda b: b["log"][1]["data"].update(value="31416"),
    "edit the commit event": lambda b: b["log"][0]["data"].update(period="2027-02"),
    "delete a logged event": lambda b: b["log"].pop(1),
    "edit a timestamp": lambda b: b["log"][3].update(at="2026-12-31T00:00:00Z"),
    "edit the final list": lambda b: b["final"][0]["assignments"][0].update(inspector_id="I7"),
    "drop a final task": lambda b: b["final"].pop(),
    "edit the result": lambda b: b["result"][0]["assignments"][1].update(inspector_id="I7"),
    "forge the replacement secret": lambda b: b.update(replacement_secret="cd" * 32),
    "forge the rseed": lambda b: b.update(rseed="cd" * 32),
    "drop the close event": lambda b: b["log"].pop(),
    "wrong log head": lambda b: b.update(log_head="0" * 64),
}


@pytest.mark.parametrize("kind", sorted(TAMPERS))
@pytest.mark.parametrize("resealed", [False, True])
def test_the_verifier_detects_tampering(kind, resealed):
    bundle = closed_bundle()
    assert engine.verify_bundle(bundle) == []
    TAMPERS[kind](bundle)
    if resealed and kind != "wrong log head":
        reseal(bundle)
    problems = engine.verify_bundle(bundle)
    assert problems, f"{kind} went unnoticed"


def test_a_fully_resealed_forgery_passes_but_shows_other_heads():
    """The verifier alone cannot tell; the summary's values differ from the register's: that is the check."""
    bundle = closed_bundle()
    forged = copy.deepcopy(bundle)
    forged["replacements"][0]["reason"] = "事假"
    _replacement_event(forged, 1)["data"]["reason"] = "事假"
    reseal(forged)
    assert engine.verify_bundle(forged) == []
    assert engine.summary(forged) != engine.summary(bundle)


# ------------------------------------------------------------------------------------------------ the command line


def test_verify_py_alone_on_a_closed_v2_bundle(tmp_path):
    shutil.copy(ENGINE_FILE, tmp_path / "verify.py")
    bundle = closed_bundle()
    (tmp_path / "bundle.json").write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    ran = subprocess.run(
        [sys.executable, "-I", "verify.py", "bundle.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0] == "PASS"
    for expected in (
        f"draw: {bundle['draw']['id']}",
        "spec: suijian-draw/2",
        "status: closed",
        f"pool_hash: {bundle['pool_hash']}",
        f"commitment: {bundle['commitment']}",
        f"replacement_commitment: {bundle['replacement_commitment']}",
        f"seed: {bundle['seed']}",
        f"log head: {bundle['log_head']}",
    ):
        assert expected in lines
    assert "public register" in lines[-1]
    bundle["replacements"].pop()
    (tmp_path / "bundle.json").write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    ran = subprocess.run(
        [sys.executable, "-I", "verify.py", "bundle.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ran.returncode == 1 and ran.stdout.startswith("FAIL: ")
