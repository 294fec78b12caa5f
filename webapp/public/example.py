"""The worked example of a ``suijian-draw/2`` draw, computed with the real engine (never typed by hand).

A tiny draw: seven units in two strata (one more excluded), five fire inspectors, two slots per task
(主办 and 协办), three working days; two witness values; one 递补 after publication with one inspector
excluded at that moment; then the draw is closed.  Every figure shown on the public how-to-verify page
(``templates/public/verify.html``) and in ``docs/verification.md`` section 9 comes from here, and the
inspector picks are traced step by step from the spec text and checked against ``engine.draw`` and
``engine.replace``, so the example can drift neither from the engine nor from the specification.

``python -m webapp.public.example`` prints the Markdown of the doc's worked example (paste it between the
markers in docs/verification.md; ``tests/public/test_example.py`` checks that the doc holds exactly it).
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from webapp.draw import engine

DRAW_ID = "D-example"
ORG = "demo-1"
ITEM = "fire-duty"
PERIOD = "2027-03"
# Demo secrets, recognisable as such; real ones come from secrets.token_bytes(32).
SERVER_SECRET = bytes(range(32))
REPLACEMENT_SECRET = bytes(range(32, 64))
WITNESS = ["31415926535897932384", "王监督 62831"]
UNITS = [  # (id, stratum, weight)
    ("U-G1", "general", 100),
    ("U-G2", "general", 200),
    ("U-G3", "general", 100),
    ("U-G4", "general", 50),
    ("U-K1", "key_crowded", 150),
    ("U-K2", "key_crowded", 100),
    ("U-K3", "key_crowded", 100),
]
EXCLUDED = [{"unit_id": "U-G5", "reason": "less_than_6_months"}]
QUOTAS = {"general": 2, "key_crowded": 1}
INSPECTORS = [  # (id, can_lead, weight, conflicts, unavailable)
    ("I-A", True, 100, [], []),
    ("I-B", True, 100, [], ["2027-03-02"]),
    ("I-C", False, 150, [], []),
    ("I-D", False, 100, ["U-K1"], []),
    ("I-E", False, 50, [], []),
]
SLOTS = [{"dept": "fire", "role": "lead"}, {"dept": "fire", "role": "assist"}]
WORKING_DAYS = ["2027-03-01", "2027-03-02", "2027-03-03"]
# The ceremony (UTC; 09:30 Beijing time on 25 February, within the due window) and the month after it.
TIMES = {
    "commit": "2027-02-25T01:30:00Z",
    "witness": ["2027-02-25T01:32:00Z", "2027-02-25T01:33:00Z"],
    "draw": "2027-02-25T01:35:00Z",
    "publish": "2027-02-25T02:00:00Z",
    "replace": "2027-03-01T00:20:00Z",
    "close": "2027-03-05T09:00:00Z",
}
# The 递补: the third task's 协办 (slot 1) falls ill; at that moment one eligible colleague is on leave.
REPLACE_TASK = 3
REPLACE_SLOT = 1
ON_LEAVE = "I-C"
REPLACE_REASON = "病假"
REPLACE_EXCLUDED_REASON = "leave"

_ONE = 10**78  # tickets are integers below 10**78: ticket / 10**78 is Rivest's ticket number


def fraction(n: int, digits: int = 6) -> str:
    """``n / 10**78`` written with ``digits`` decimals (cut, not rounded) and "…": ``0.302166…``."""
    whole, rest = divmod(n, _ONE)
    return f"{whole}." + format(rest, "078d")[:digits] + "…"


@dataclass
class ExampleUnit:
    id: str
    stratum: str
    weight: int
    ticket: str  # ticket / 10**78, e.g. "0.302166…"
    key: str  # key / 10**78 (ticket * 100 // weight), same format
    rank: int  # within its stratum, 1 = lowest key
    drawn: bool
    task: int | None  # 1-based position in the task order, None if not drawn


@dataclass
class ExampleCaps:
    id: str
    can_lead: bool
    weight: int
    available: int  # a_i
    e: int  # e_i = weight * a_i
    lead: int  # capL
    assist: int  # capA


@dataclass
class ExampleTry:
    j: int
    u: int  # uniform(prefix + "#" + j, W)
    hit: str  # the inspector of Q that u falls on
    verdict: str  # "taken", "on this task", "conflicted", "away", "at cap", "not a candidate"


@dataclass
class ExamplePick:
    task: int  # 1-based
    unit_id: str
    day: str
    slot: int
    role: str
    candidates: list[str]
    preferred: list[str]
    counts: dict[str, str]  # candidate -> "count/cap" in this role before the pick
    prefix: str  # e.g. "insp:U-K1:0"
    total: int  # W
    tries: list[ExampleTry]
    chosen: str | None
    fallback: bool


@dataclass
class ExampleTask:
    n: int
    unit_id: str
    stratum: str
    day: str
    inspectors: list[str | None]  # per slot, as drawn
    final: list[str | None]  # per slot, after the 递补


@dataclass
class ExampleReplacement:
    unit_id: str
    day: str
    slot: int
    role: str
    round: int
    out: str
    reason: str
    ever: list[str]
    eligible: list[str]
    excluded_now: list[dict[str, str]]
    candidates: list[str]
    prefix: str
    total: int
    tries: list[ExampleTry]
    came_in: str


@dataclass
class ExampleEvent:
    n: int
    type: str
    at: str
    head: str
    data: dict[str, Any]


@dataclass
class Example:
    draw_id: str
    org: str
    item: str
    period: str
    pool: dict[str, Any]
    pool_hash: str
    secret_hex: str
    commitment: str
    replacement_secret_hex: str
    replacement_commitment: str
    witness: list[str]
    seed: str
    rseed: str
    quotas: dict[str, int]
    slots: list[dict[str, str]]
    working_days: list[str]
    units: list[ExampleUnit]
    caps: list[ExampleCaps]
    caps_totals: dict[str, int]
    picks: list[ExamplePick]
    tasks: list[ExampleTask]
    replacement: ExampleReplacement
    result_hash: str
    head0: str
    events: list[ExampleEvent]
    published: dict[str, Any] = field(repr=False)  # the bundle after publication, before closing
    closed: dict[str, Any] = field(repr=False)  # the bundle after closing
    output_published: list[str] = field(default_factory=list)  # what verify.py prints for each
    output_closed: list[str] = field(default_factory=list)

    @property
    def quota(self) -> int:
        return sum(self.quotas.values())


def example_pool() -> dict[str, Any]:
    """The pool object exactly as the bundle carries it (canonical: sorted ids, every key)."""
    return {
        "units": [{"id": uid, "stratum": s, "weight": w} for uid, s, w in sorted(UNITS)],
        "inspectors": [
            {"id": iid, "dept": "fire", "can_lead": lead, "weight": w, "conflicts": c, "unavailable": u}
            for iid, lead, w, c, u in sorted(INSPECTORS)
        ],
        "quotas": dict(QUOTAS),
        "slots": [dict(s) for s in SLOTS],
        "working_days": list(WORKING_DAYS),
        "excluded": [dict(x) for x in EXCLUDED],
    }


def _uniform_tries(
    seed: str, prefix: str, members: list[dict[str, Any]], verdict
) -> tuple[list[ExampleTry], str | None]:
    """Spec /2 section 3's loop, plainly: up to 64 tries over ``members`` (``Q`` in id order)."""
    cum, total = [], 0
    for m in members:
        total += m["weight"]
        cum.append(total)
    tries = []
    for j in range(engine.TRIES):
        u = engine.uniform(seed, f"{prefix}#{j}", total)
        hit = members[bisect.bisect_right(cum, u)]["id"]
        v = verdict(hit)
        tries.append(ExampleTry(j, u, hit, v))
        if v == "taken":
            return tries, hit
    return tries, None


def _trace_draw(pool: dict[str, Any], seed: str, caps: dict[str, dict[str, int]], drawn: list[str]):
    """Trace every inspector pick of spec /2 section 3 from its text; returns (picks, per-task inspectors)."""
    inspectors = pool["inspectors"]
    counts = {i["id"]: {"lead": 0, "assist": 0} for i in inspectors}
    picks, assigned = [], []
    for n, unit_id in enumerate(drawn, start=1):
        day = pool["working_days"][(n - 1) % len(pool["working_days"])]
        on_task: list[str] = []
        for k, slot in enumerate(pool["slots"]):
            role = "lead" if slot["role"] == engine.LEAD_ROLE else "assist"
            q = [i for i in inspectors if i["dept"] == slot["dept"] and (role == "assist" or i["can_lead"])]
            why = {}
            for i in q:
                if unit_id in i["conflicts"]:
                    why[i["id"]] = "conflicted"
                elif i["id"] in on_task:
                    why[i["id"]] = "on this task"
                elif day in i["unavailable"]:
                    why[i["id"]] = "away"
            candidates = [i["id"] for i in q if i["id"] not in why]
            below = [c for c in candidates if counts[c][role] < caps[c][role]]
            preferred = below or candidates

            def verdict(hit: str, why=why, preferred=preferred) -> str:
                if hit in why:
                    return why[hit]
                return "taken" if hit in preferred else "at cap"

            prefix = f"insp:{unit_id}:{k}"
            tries, chosen = _uniform_tries(seed, prefix, q, verdict) if candidates else ([], None)
            fallback = bool(candidates) and chosen is None
            if fallback:
                by_id = {i["id"]: i for i in q}
                chosen = min(preferred, key=lambda c: engine.key(seed, f"{prefix}:{c}", by_id[c]["weight"]))
            picks.append(
                ExamplePick(
                    task=n,
                    unit_id=unit_id,
                    day=day,
                    slot=k,
                    role=slot["role"],
                    candidates=candidates,
                    preferred=preferred,
                    counts={c: f"{counts[c][role]}/{caps[c][role]}" for c in candidates},
                    prefix=prefix,
                    total=sum(i["weight"] for i in q),
                    tries=tries,
                    chosen=chosen,
                    fallback=fallback,
                )
            )
            if chosen is not None:
                counts[chosen][role] += 1
                on_task.append(chosen)
        assigned.append((unit_id, day, [p.chosen for p in picks[-len(pool["slots"]) :]]))
    return picks, assigned


def _caps(pool: dict[str, Any], n_tasks: int) -> tuple[list[ExampleCaps], dict[str, int]]:
    caps = engine.load_caps(pool, n_tasks)
    days = set(pool["working_days"])
    rows = []
    for i in pool["inspectors"]:
        available = len(days - set(i["unavailable"]))
        rows.append(
            ExampleCaps(
                i["id"],
                i["can_lead"],
                i["weight"],
                available,
                i["weight"] * available,
                caps[i["id"]]["lead"],
                caps[i["id"]]["assist"],
            )
        )
    slots, leads = len(pool["slots"]), sum(s["role"] == engine.LEAD_ROLE for s in pool["slots"])
    totals = {
        "S": n_tasks * slots,
        "SL": n_tasks * leads,
        "SA": n_tasks * (slots - leads),
        "E": sum(r.e for r in rows),
        "EL": sum(r.e for r in rows if r.can_lead),
    }
    return rows, totals


def _bundle(ex_parts: dict[str, Any], events: list[dict[str, Any]], closed: bool) -> dict[str, Any]:
    log = events if closed else [e for e in events if e["type"] != "close"]
    heads = engine.log_heads(DRAW_ID, log)
    at = {e["type"]: e["at"] for e in reversed(log)}  # the first event of each type
    return {
        "spec": engine.SPEC,
        "draw": {
            "id": DRAW_ID,
            "org": ORG,
            "item": ITEM,
            "period": PERIOD,
            "status": "closed" if closed else "published",
            "committed_at": at["commit"],
            "drawn_at": at["draw"],
            "published_at": at["publish"],
            "closed_at": at.get("close"),
            "abandoned_reason": None,
        },
        "pool": ex_parts["pool"],
        "pool_hash": ex_parts["pool_hash"],
        "commitment": ex_parts["commitment"],
        "replacement_commitment": ex_parts["replacement_commitment"],
        "witness": list(WITNESS),
        "server_secret": SERVER_SECRET.hex(),
        "seed": ex_parts["seed"],
        "replacement_secret": REPLACEMENT_SECRET.hex() if closed else None,
        "rseed": ex_parts["rseed"] if closed else None,
        "result": ex_parts["result"],
        "replacements": ex_parts["replacements"],
        "final": ex_parts["final"],
        "log": log,
        "log_head": heads[-1],
    }


def bundle_json(bundle: dict[str, Any]) -> str:
    """The bundle as the public site serves it (sorted keys, indented, UTF-8 text)."""
    return json.dumps(bundle, ensure_ascii=False, sort_keys=True, indent=2) + "\n"


def verifier_output(bundle: dict[str, Any]) -> list[str]:
    """What ``python3 verify.py bundle.json`` prints for ``bundle`` (PASS and the lines to compare)."""
    differences = engine.verify_bundle(bundle)
    if differences:
        return [f"FAIL: {differences[0]}"]
    return ["PASS", *engine.summary(bundle)]


@lru_cache(maxsize=1)
def worked_example() -> Example:
    """Build the example; raises ``AssertionError`` if the trace and the engine ever disagree."""
    pool = example_pool()
    phash = engine.pool_hash(pool)
    secret_hex = SERVER_SECRET.hex()
    seed = engine.compute_seed(phash, secret_hex, WITNESS)
    rseed = engine.replacement_seed(seed, REPLACEMENT_SECRET.hex())

    # Units: rank each stratum by key, take the quota, order all drawn by key.
    keyed = {uid: engine.key(seed, "unit:" + uid, w) for uid, _s, w in UNITS}
    drawn: list[tuple[tuple[int, str], str]] = []
    ranks: dict[str, int] = {}
    for stratum in sorted(QUOTAS):
        members = sorted((keyed[uid], uid) for uid, s, _w in UNITS if s == stratum)
        for rank, (_k, uid) in enumerate(members, start=1):
            ranks[uid] = rank
        drawn += members[: QUOTAS[stratum]]
    order = [uid for _k, uid in sorted(drawn)]
    engine_run = engine.draw(pool, seed)
    result = engine_run["result"]
    assert [t["unit_id"] for t in result] == order, "the unit order differs from the engine"
    assert not engine_run["unfillable"]

    caps, caps_totals = _caps(pool, len(order))
    cap_map = {c.id: {"lead": c.lead, "assist": c.assist} for c in caps}
    picks, assigned = _trace_draw(pool, seed, cap_map, order)
    traced = [
        {"unit_id": u, "planned_date": d, "assignments": [{"slot": k, "inspector_id": i} for k, i in enumerate(ids)]}
        for u, d, ids in assigned
    ]
    assert traced == result, "the traced inspector picks differ from the engine"

    # The 递补: task REPLACE_TASK's 协办 falls ill; one of the eligible colleagues is on leave that day.
    by_id = {i["id"]: i for i in pool["inspectors"]}
    task = result[REPLACE_TASK - 1]
    out = task["assignments"][REPLACE_SLOT]["inspector_id"]
    ever = sorted(engine.ever_assigned_to(task, []))
    came_in, candidates, excluded_now = engine.replace(
        pool, rseed, task, REPLACE_SLOT, 1, ever, {ON_LEAVE: REPLACE_EXCLUDED_REASON}
    )
    assert came_in is not None and len(candidates) >= 2 and [x["id"] for x in excluded_now] == [ON_LEAVE]
    slot = SLOTS[REPLACE_SLOT]
    q = [i for i in pool["inspectors"] if i["dept"] == slot["dept"] and (slot["role"] != "lead" or i["can_lead"])]
    prefix = f"repl:{task['unit_id']}:{REPLACE_SLOT}:1"
    tries, traced_in = _uniform_tries(
        rseed,
        prefix,
        q,
        lambda hit: "taken" if hit in candidates else ("excluded now" if hit == ON_LEAVE else "not a candidate"),
    )
    if traced_in is None:
        traced_in = min(candidates, key=lambda c: engine.key(rseed, f"{prefix}:{c}", by_id[c]["weight"]))
    assert traced_in == came_in, "the traced 递补 differs from the engine"
    eligible = sorted(candidates + [x["id"] for x in excluded_now])
    replacement_entry = {
        "unit_id": task["unit_id"],
        "slot": REPLACE_SLOT,
        "round": 1,
        "out": out,
        "in": came_in,
        "reason": REPLACE_REASON,
        "candidates": candidates,
        "excluded_now": excluded_now,
    }
    final = [{"unit_id": t["unit_id"], "assignments": [dict(a) for a in t["assignments"]]} for t in result]
    final[REPLACE_TASK - 1]["assignments"][REPLACE_SLOT]["inspector_id"] = came_in

    # The ceremony log.
    commitment = engine.commitment(SERVER_SECRET)
    replacement_commitment = engine.commitment(REPLACEMENT_SECRET)
    rhash = engine.result_hash(result)
    raw = [
        (
            "commit",
            TIMES["commit"],
            {
                "org": ORG,
                "item": ITEM,
                "period": PERIOD,
                "pool_hash": phash,
                "commitment": commitment,
                "replacement_commitment": replacement_commitment,
            },
        ),
        *(("witness", at, {"value": v}) for at, v in zip(TIMES["witness"], WITNESS, strict=True)),
        ("draw", TIMES["draw"], {"result_hash": rhash}),
        ("publish", TIMES["publish"], {"server_secret": secret_hex}),
        ("replace", TIMES["replace"], replacement_entry),
        ("close", TIMES["close"], {"replacement_secret": REPLACEMENT_SECRET.hex()}),
    ]
    events = [engine.make_event(n, t, at, data) for n, (t, at, data) in enumerate(raw, start=1)]
    heads = engine.log_heads(DRAW_ID, events)
    parts = {
        "pool": pool,
        "pool_hash": phash,
        "commitment": commitment,
        "replacement_commitment": replacement_commitment,
        "seed": seed,
        "rseed": rseed,
        "result": result,
        "replacements": [{"seq": 1, **replacement_entry, "at": TIMES["replace"]}],
        "final": final,
    }
    published, closed = _bundle(parts, events, closed=False), _bundle(parts, events, closed=True)
    output_published, output_closed = verifier_output(published), verifier_output(closed)
    assert output_published[0] == "PASS" and output_closed[0] == "PASS", (output_published, output_closed)

    strata = {uid: s for uid, s, _w in UNITS}
    weights = {uid: w for uid, _s, w in UNITS}
    units = [
        ExampleUnit(
            id=uid,
            stratum=strata[uid],
            weight=weights[uid],
            ticket=fraction(engine.ticket(seed, "unit:" + uid)),
            key=fraction(keyed[uid][0]),
            rank=ranks[uid],
            drawn=uid in order,
            task=order.index(uid) + 1 if uid in order else None,
        )
        for uid in sorted(strata, key=lambda u: (strata[u], ranks[u]))
    ]
    tasks = [
        ExampleTask(
            n=n,
            unit_id=t["unit_id"],
            stratum=strata[t["unit_id"]],
            day=t["planned_date"],
            inspectors=[a["inspector_id"] for a in t["assignments"]],
            final=[a["inspector_id"] for a in f["assignments"]],
        )
        for n, (t, f) in enumerate(zip(result, final, strict=True), start=1)
    ]
    return Example(
        draw_id=DRAW_ID,
        org=ORG,
        item=ITEM,
        period=PERIOD,
        pool=pool,
        pool_hash=phash,
        secret_hex=secret_hex,
        commitment=commitment,
        replacement_secret_hex=REPLACEMENT_SECRET.hex(),
        replacement_commitment=replacement_commitment,
        witness=list(WITNESS),
        seed=seed,
        rseed=rseed,
        quotas=dict(QUOTAS),
        slots=[dict(s) for s in SLOTS],
        working_days=list(WORKING_DAYS),
        units=units,
        caps=caps,
        caps_totals=caps_totals,
        picks=picks,
        tasks=tasks,
        replacement=ExampleReplacement(
            unit_id=task["unit_id"],
            day=task["planned_date"],
            slot=REPLACE_SLOT,
            role=slot["role"],
            round=1,
            out=out,
            reason=REPLACE_REASON,
            ever=ever,
            eligible=eligible,
            excluded_now=excluded_now,
            candidates=candidates,
            prefix=prefix,
            total=sum(i["weight"] for i in q),
            tries=tries,
            came_in=came_in,
        ),
        result_hash=rhash,
        head0=engine.head0(DRAW_ID),
        events=[ExampleEvent(e["n"], e["type"], e["at"], h, e["data"]) for e, h in zip(events, heads, strict=True)],
        published=published,
        closed=closed,
        output_published=output_published,
        output_closed=output_closed,
    )


_VERDICT = {"taken": "**taken**"}


def _tries(tries: list[ExampleTry]) -> str:
    return "; ".join(f"j={t.j}: u={t.u} → {t.hit} {_VERDICT.get(t.verdict, '(' + t.verdict + ')')}" for t in tries)


def _ids(ids: list[str | None]) -> str:
    return ", ".join(i or "—" for i in ids) or "—"


def _json(x: Any) -> str:
    return json.dumps(x, ensure_ascii=False, separators=(", ", ": "))


def example_markdown() -> str:
    """The worked example of docs/verification.md (section 9) in Markdown, every number from the engine."""
    ex = worked_example()
    pool = ex.pool
    lines: list[str] = []
    add = lines.append
    add(
        f"Draw `{ex.draw_id}` of organisation `{ex.org}`, item `{ex.item}`, period {ex.period}, "
        f"spec `{engine.SPEC}`. All secrets below are demo values; real ones come from `secrets.token_bytes(32)`."
    )
    add("")
    add("**The pool** (frozen before anything else; exactly as in the bundle):")
    add("")
    add("| unit | stratum | weight |")
    add("|---|---|---|")
    for u in pool["units"]:
        add(f"| {u['id']} | {u['stratum']} | {u['weight']} |")
    add("")
    add("| inspector | dept | can_lead | weight | conflicts | unavailable |")
    add("|---|---|---|---|---|---|")
    for i in pool["inspectors"]:
        add(
            f"| {i['id']} | {i['dept']} | {'yes' if i['can_lead'] else 'no'} | {i['weight']} | "
            f"{_ids(i['conflicts'])} | {_ids(i['unavailable'])} |"
        )
    add("")
    add(
        f"- `quotas` = `{_json(pool['quotas'])}`; `slots` = `{_json(pool['slots'])}` (slot 0 主办, slot 1 协办); "
        f"`working_days` = `{_json(pool['working_days'])}`"
    )
    add(f"- `excluded` = `{_json(pool['excluded'])}` (not drawable, shown with its reason)")
    add(f"- `pool_hash` = `{ex.pool_hash}`")
    add("")
    add("**Commit** (the register lists the draw from this moment):")
    add("")
    add(f"- `server_secret` = `{ex.secret_hex}` → `commitment` = `{ex.commitment}`")
    add(
        f"- `replacement_secret` = `{ex.replacement_secret_hex}` → "
        f"`replacement_commitment` = `{ex.replacement_commitment}`"
    )
    add("")
    add("**Witness and seed:**")
    add("")
    add(f"- `witness` = `{_json(ex.witness)}` (NFC-normalised and stripped, in entry order)")
    add(f"- `seed` = `{ex.seed}`")
    add(f"- `rseed` = `{ex.rseed}` (secret until closing)")
    add("")
    add("**Units.** Tickets and keys as fractions of 10^78 (first six decimals):")
    add("")
    add("| stratum | quota | unit | weight | ticket T | key T·100//w | rank | drawn |")
    add("|---|---|---|---|---|---|---|---|")
    for u in ex.units:
        drawn = f"yes, task {u.task}" if u.drawn else ""
        add(
            f"| {u.stratum} | {ex.quotas[u.stratum]} | {u.id} | {u.weight} | {u.ticket} | {u.key} | {u.rank} "
            f"| {drawn} |"
        )
    add("")
    order = ", ".join(f"{t.unit_id} ({t.day})" for t in ex.tasks)
    add(f"Task order (all drawn units by key), each planned on `working_days[i % {len(ex.working_days)}]`: {order}.")
    add("")
    t = ex.caps_totals
    add(f"**Caps.** {len(ex.tasks)} tasks: S = {t['S']}, SL = {t['SL']}, SA = {t['SA']}; E = {t['E']}, EL = {t['EL']}.")
    add("")
    add("| inspector | can_lead | weight | a (days available) | e = weight·a | capL | capA |")
    add("|---|---|---|---|---|---|---|")
    for c in ex.caps:
        add(
            f"| {c.id} | {'yes' if c.can_lead else 'no'} | {c.weight} | {c.available} | {c.e} | {c.lead} | {c.assist} |"
        )
    add("")
    add(
        "**Inspectors.** For each task and slot: the candidates with their count/cap in this role, the "
        'preferred, and the tries `u = uniform(prefix + "#" + j, W)` (the inspector hit is the first of Q, '
        "in id order, whose cumulative weight exceeds u):"
    )
    add("")
    add("| task | unit | date | slot | prefix | W | candidates (count/cap) | preferred | tries | picked |")
    add("|---|---|---|---|---|---|---|---|---|---|")
    for p in ex.picks:
        cands = ", ".join(f"{c} {p.counts[c]}" for c in p.candidates) or "—"
        picked = (p.chosen or "— (empty)") + (" (key fallback)" if p.fallback else "")
        add(
            f"| {p.task} | {p.unit_id} | {p.day} | {p.slot} {p.role} | `{p.prefix}` | {p.total} | {cands} | "
            f"{_ids(p.preferred)} | {_tries(p.tries)} | **{picked}** |"
        )
    add("")
    add(f"`result_hash` = `{ex.result_hash}`")
    add("")
    r = ex.replacement
    add(
        f"**递补.** On {ex.events[-2].at[:10]}, {r.out} ({r.role}, slot {r.slot}) of {r.unit_id} on {r.day} falls ill "
        f"(reason: {r.reason}); round {r.round}. Ever on the task: {_ids(r.ever)}. Eligible (dept, no conflict, never "
        f"on the task, not away on the day in the pool): {_ids(r.eligible)}. Excluded now: "
        + ", ".join(f"{x['id']} ({x['reason']})" for x in r.excluded_now)
        + f". Candidates: {_ids(r.candidates)}. Tries with `rseed`, prefix `{r.prefix}`, W = {r.total}: "
        f"{_tries(r.tries)} → **{r.came_in}** comes in."
    )
    add("")
    add("| task | unit | date | drawn (主办, 协办) | final (主办, 协办) |")
    add("|---|---|---|---|---|")
    for task in ex.tasks:
        add(f"| {task.n} | {task.unit_id} | {task.day} | {_ids(task.inspectors)} | {_ids(task.final)} |")
    add("")
    add(f"**The log.** `head_0` = `{ex.head0}`:")
    add("")
    add("| n | type | at | head_n |")
    add("|---|---|---|---|")
    for e in ex.events:
        add(f"| {e.n} | {e.type} | {e.at} | `{e.head}` |")
    add("")
    u = next(u for u in ex.units if u.task == 1)
    add(f"To recompute the ticket of {u.id} by hand (any Python 3):")
    add("")
    add("```python")
    add("import hashlib")
    add("")
    add(f'seed = "{ex.seed}"')
    add("seed_hash = hashlib.sha256(seed.encode()).hexdigest()")
    add(f'h = int(hashlib.sha256((seed_hash + "unit:{u.id}").encode()).hexdigest(), 16)')
    add(f'print("0." + "{{:064d}}".format(h)[::-1])  # {u.ticket.rstrip("…")}…')
    add("```")
    add("")
    add("`verify.py` on the bundle after publication (before closing):")
    add("")
    add("```")
    lines.extend(ex.output_published)
    add("```")
    add("")
    add("and on the bundle after closing:")
    add("")
    add("```")
    lines.extend(ex.output_closed)
    add("```")
    add("")
    add("The bundle after closing, exactly as `/public/draws/<id>/bundle.json` serves it — save it as")
    add("`bundle.json` next to `verify.py` and run the check yourself:")
    add("")
    add("<details><summary>bundle.json</summary>")
    add("")
    add("```json")
    add(bundle_json(ex.closed).rstrip("\n"))
    add("```")
    add("")
    add("</details>")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - a developer's tool: print the doc's worked example
    print(example_markdown(), end="")
