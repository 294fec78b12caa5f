"""The worked example of a suijian-draw/2 draw (docs/verification.md section 9 and the public 如何核验 page).

Every number the doc shows is recomputed here by a second, deliberately plain implementation written from
the spec text (DRAW_SPEC.md), not from the engine: seeds, tickets, keys, ranks, caps, every try of every
pick, the 递补, the log heads. The doc's bundle is run through the downloaded verify.py, alone in an empty
folder, and must print exactly what the doc shows; the FAIL messages the doc quotes are what tampering with
that bundle gives.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from webapp.draw import engine
from webapp.public import example as example_mod
from webapp.public.example import example_markdown, worked_example

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "verification.md"
START = "<!-- worked-example:start"
END = "<!-- worked-example:end -->"


# ------------------------------------------------------------------ a plain implementation of the spec text


def H(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def canonical(x) -> bytes:
    return json.dumps(x, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def R(seed: str, s: str) -> int:
    seed_hash = H(seed.encode())
    return int(H((seed_hash + s).encode("utf-8")), 16)


def T(seed: str, s: str) -> int:
    digits = "{:064d}".format(R(seed, s))[::-1]  # noqa: UP032 (as the spec writes it)
    return int(digits.ljust(78, "0"))


def key(seed: str, s: str, w: int) -> tuple[int, str]:
    return (T(seed, s) * 100 // w, s)


def uniform(seed: str, s: str, n: int) -> int:
    return R(seed, s) % n


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def shown(n: int) -> str:
    """A ticket or key as the doc prints it: n / 10**78 with six decimals, cut."""
    return f"{n // 10**78}." + str(n % 10**78).zfill(78)[:6] + "…"


def plain_caps(pool, n_tasks):
    days = pool["working_days"]
    insp = pool["inspectors"]
    slots_per_task = len(pool["slots"])
    leads_per_task = sum(1 for s in pool["slots"] if s["role"] == "lead")
    e = {i["id"]: i["weight"] * sum(1 for d in days if d not in i["unavailable"]) for i in insp}
    S, SL = n_tasks * slots_per_task, n_tasks * leads_per_task
    SA = S - SL
    E = sum(e.values())
    EL = sum(e[i["id"]] for i in insp if i["can_lead"])
    capL = {i["id"]: ceil_div(SL * e[i["id"]], EL) if i["can_lead"] and EL > 0 else 0 for i in insp}
    room = {}
    for i in insp:
        if SL == 0 or EL == 0:
            room[i["id"]] = e[i["id"]]
        elif i["can_lead"]:
            room[i["id"]] = max(0, e[i["id"]] * (S * EL - SL * E))
        else:
            room[i["id"]] = e[i["id"]] * S * EL
    Rd = sum(room.values())
    capA = {i["id"]: ceil_div(SA * room[i["id"]], Rd) if Rd > 0 else 0 for i in insp}
    return e, capL, capA, {"S": S, "SL": SL, "SA": SA, "E": E, "EL": EL}


def plain_loop(seed, prefix, Q, accept):
    """The 64 tries of spec section 3; returns ([(j, u, hit)], taken or None)."""
    W = sum(i["weight"] for i in Q)
    tries = []
    for j in range(64):
        u = uniform(seed, prefix + "#" + str(j), W)
        cum = 0
        for i in Q:
            cum += i["weight"]
            if cum > u:
                break
        tries.append((j, u, i["id"]))
        if accept(i["id"]):
            return tries, i["id"]
    return tries, None


def plain_draw(pool, seed):
    units = pool["units"]
    drawn = []
    ranks = {}
    for stratum in sorted(pool["quotas"]):
        ranked = sorted((key(seed, "unit:" + u["id"], u["weight"]), u["id"]) for u in units if u["stratum"] == stratum)
        for n, (_k, uid) in enumerate(ranked, 1):
            ranks[uid] = n
        drawn += ranked[: pool["quotas"][stratum]]
    order = [uid for _k, uid in sorted(drawn)]
    _e, capL, capA, _t = plain_caps(pool, len(order))
    leads = {i["id"]: 0 for i in pool["inspectors"]}
    assists = {i["id"]: 0 for i in pool["inspectors"]}
    result, trace = [], []
    for n, uid in enumerate(order):
        day = pool["working_days"][n % len(pool["working_days"])]
        on_task, assignments = [], []
        for k, slot in enumerate(pool["slots"]):
            lead = slot["role"] == "lead"
            Q = sorted(
                (i for i in pool["inspectors"] if i["dept"] == slot["dept"] and (i["can_lead"] or not lead)),
                key=lambda i: i["id"],
            )
            count, cap = (leads, capL) if lead else (assists, capA)
            cands = [
                i["id"]
                for i in Q
                if uid not in i["conflicts"] and i["id"] not in on_task and day not in i["unavailable"]
            ]
            preferred = [c for c in cands if count[c] < cap[c]] or cands
            tries, chosen = plain_loop(seed, f"insp:{uid}:{k}", Q, lambda c, p=preferred: c in p)
            if chosen is None and preferred:
                w = {i["id"]: i["weight"] for i in Q}
                chosen = min(preferred, key=lambda c: key(seed, f"insp:{uid}:{k}:{c}", w[c]))
            if chosen is not None:
                count[chosen] += 1
                on_task.append(chosen)
            assignments.append({"slot": k, "inspector_id": chosen})
            trace.append((cands, preferred, tries, chosen))
        result.append({"unit_id": uid, "planned_date": day, "assignments": assignments})
    return ranks, order, result, trace


# ----------------------------------------------------------------------------------------------- tests


def _doc() -> str:
    return DOC.read_text(encoding="utf-8")


def _section() -> str:
    doc = _doc()
    assert START in doc and END in doc, "docs/verification.md lost the worked example's markers"
    body = doc.split(START, 1)[1].split("-->", 1)[1].lstrip("\n")
    return body.split(END, 1)[0]


def _blocks(text: str, lang: str = "") -> list[str]:
    """The fenced code blocks of ``text`` opened with ```` ```lang ```` (```` ``` ```` alone for ``lang=""``)."""
    blocks, current, opened = [], None, None
    for line in text.splitlines():
        if current is None and line.startswith("```"):
            current, opened = [], line[3:].strip()
        elif current is not None and line == "```":
            if opened == lang:
                blocks.append("\n".join(current))
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def test_the_doc_holds_exactly_the_generated_example():
    assert _section() == example_markdown(), "regenerate: python -m webapp.public.example (paste between the markers)"


def test_every_number_of_the_example_recomputed_from_the_spec_text():
    ex = worked_example()
    doc = _section()
    pool = ex.pool
    # The pool as the doc's bundle carries it, and its hash.
    bundle = json.loads(_blocks(doc, "json")[0])
    assert bundle["pool"] == pool
    pool_hash = H(canonical(pool))
    assert f"`pool_hash` = `{pool_hash}`" in doc
    # The two commitments from the demo secrets.
    secret, rsecret = bytes(range(32)), bytes(range(32, 64))
    assert f"`commitment` = `{H(secret)}`" in doc
    assert f"`replacement_commitment` = `{H(rsecret)}`" in doc
    # The seed and rseed.
    witness = [unicodedata.normalize("NFC", v).strip() for v in ["31415926535897932384", "王监督 62831"]]
    seed = H(canonical({"spec": "suijian-draw/2", "pool_hash": pool_hash, "secret": secret.hex(), "witness": witness}))
    rseed = H(canonical({"spec": "suijian-draw/2", "seed": seed, "replacement_secret": rsecret.hex()}))
    assert f"`seed` = `{seed}`" in doc and f"`rseed` = `{rseed}`" in doc
    # Tickets, keys and ranks of every unit.
    ranks, order, result, trace = plain_draw(pool, seed)
    for u in pool["units"]:
        drawn = f"yes, task {order.index(u['id']) + 1}" if u["id"] in order else ""
        row = (
            f"| {u['stratum']} | {pool['quotas'][u['stratum']]} | {u['id']} | {u['weight']} | "
            f"{shown(T(seed, 'unit:' + u['id']))} | {shown(key(seed, 'unit:' + u['id'], u['weight'])[0])} | "
            f"{ranks[u['id']]} | {drawn} |"
        )
        assert row in doc, row
    # Caps.
    e, capL, capA, totals = plain_caps(pool, len(order))
    assert f"S = {totals['S']}, SL = {totals['SL']}, SA = {totals['SA']}; E = {totals['E']}, EL = {totals['EL']}" in doc
    for i in pool["inspectors"]:
        days = sum(1 for d in pool["working_days"] if d not in i["unavailable"])
        row = (
            f"| {i['id']} | {'yes' if i['can_lead'] else 'no'} | {i['weight']} | {days} | {e[i['id']]} | "
            f"{capL[i['id']]} | {capA[i['id']]} |"
        )
        assert row in doc, row
    # Every try of every pick, and the result.
    assert len(trace) == len(ex.picks)
    for (cands, preferred, tries, chosen), pick in zip(trace, ex.picks, strict=True):
        assert (pick.candidates, pick.preferred, pick.chosen) == (cands, preferred, chosen)
        assert [(t.j, t.u, t.hit) for t in pick.tries] == tries
        for j, u, hit in tries:
            assert f"j={j}: u={u} → {hit}" in doc
    assert result == bundle["result"]
    for n, task in enumerate(result, 1):
        ids = ", ".join(a["inspector_id"] for a in task["assignments"])
        assert f"| {n} | {task['unit_id']} | {task['planned_date']} | {ids} |" in doc
    assert f"`result_hash` = `{H(canonical(result))}`" in doc
    # The 递补: eligible, excluded now, candidates, the tries with rseed, who came in.
    rep = bundle["replacements"][0]
    task = next(t for t in result if t["unit_id"] == rep["unit_id"])
    slot = pool["slots"][rep["slot"]]
    Q = sorted(
        (i for i in pool["inspectors"] if i["dept"] == slot["dept"] and (i["can_lead"] or slot["role"] != "lead")),
        key=lambda i: i["id"],
    )
    ever = {a["inspector_id"] for a in task["assignments"]}
    eligible = [
        i["id"]
        for i in Q
        if rep["unit_id"] not in i["conflicts"] and i["id"] not in ever and task["planned_date"] not in i["unavailable"]
    ]
    excluded = {x["id"] for x in rep["excluded_now"]}
    candidates = [c for c in eligible if c not in excluded]
    assert rep["candidates"] == candidates and excluded and excluded < set(eligible)
    tries, came_in = plain_loop(
        rseed, f"repl:{rep['unit_id']}:{rep['slot']}:{rep['round']}", Q, lambda c: c in candidates
    )
    assert came_in == rep["in"]
    assert (
        f"Eligible (dept, no conflict, never on the task, not away on the day in the pool): {', '.join(eligible)}."
        in doc
    )
    assert f"Candidates: {', '.join(candidates)}." in doc
    for j, u, hit in tries:
        assert f"j={j}: u={u} → {hit}" in doc
    assert f"→ **{came_in}** comes in." in doc
    # The log heads.
    head = H(canonical({"spec": "suijian-draw/2", "draw": bundle["draw"]["id"]}))
    assert f"`head_0` = `{head}`" in doc
    for event in bundle["log"]:
        head = H(canonical({"prev": head, "event": event}))
        assert f"| {event['n']} | {event['type']} | {event['at']} | `{head}` |" in doc
    assert bundle["log_head"] == head
    # The ticket computed by hand in the doc's snippet.
    snippet = _blocks(doc, "python")[0]
    expected = "0." + "{:064d}".format(R(seed, "unit:" + order[0]))[::-1]
    assert f"# {expected[:8]}…" in snippet


def test_the_doc_bundle_verifies_with_verify_py_alone_and_prints_what_the_doc_shows(client, db, tmp_path):
    doc = _section()
    plain = _blocks(doc)
    published_out, closed_out = plain[0], plain[1]
    verifier = client.get("/public/verify.py").get_data()
    (tmp_path / "verify.py").write_bytes(verifier)
    runs = {
        "closed": json.loads(_blocks(doc, "json")[0]),
        "published": worked_example().published,
    }
    for name, bundle in runs.items():
        (tmp_path / "bundle.json").write_text(example_mod.bundle_json(bundle), encoding="utf-8")
        out = subprocess.run(
            [sys.executable, "-I", "verify.py", "bundle.json"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=60,
            env={"PYTHONIOENCODING": "utf-8"},
        )
        assert out.returncode == 0, out.stdout + out.stderr
        assert out.stdout.rstrip("\n") == (closed_out if name == "closed" else published_out)
    assert "递补 pending closing: 1" in published_out and "pending" not in closed_out
    assert "status: closed" in closed_out


def _reseal(bundle: dict) -> dict:
    heads = engine.log_heads(bundle["draw"]["id"], bundle["log"])
    bundle["log_head"] = heads[-1]
    return bundle


def _first_failure(bundle: dict) -> str:
    differences = engine.verify_bundle(bundle)
    assert differences
    return "FAIL: " + differences[0]


def test_the_failures_the_doc_quotes_are_what_tampering_gives():
    doc = _doc()
    ex = worked_example()
    deleted = copy.deepcopy(ex.published)
    deleted["replacements"] = []
    deleted["final"] = copy.deepcopy(deleted["result"])
    assert f"`{_first_failure(deleted)}`" in doc
    also_log = copy.deepcopy(deleted)
    also_log["log"] = [e for e in also_log["log"] if e["type"] != "replace"]
    assert _first_failure(also_log) == "FAIL: log_head is not the last head of the log"
    assert f"`{_first_failure(also_log)}`" in doc
    unexcluded = copy.deepcopy(ex.published)
    unexcluded["replacements"][0]["excluded_now"] = []
    next(e for e in unexcluded["log"] if e["type"] == "replace")["data"]["excluded_now"] = []
    failure = _first_failure(_reseal(unexcluded))
    assert "is neither a candidate nor excluded" in failure and f"`{failure}`" in doc
    swapped = copy.deepcopy(ex.closed)
    other = next(c for c in swapped["replacements"][0]["candidates"] if c != swapped["replacements"][0]["in"])
    swapped["replacements"][0]["in"] = other
    next(e for e in swapped["log"] if e["type"] == "replace")["data"]["in"] = other
    swapped["final"] = [
        {"unit_id": t["unit_id"], "assignments": [dict(a) for a in t["assignments"]]} for t in swapped["final"]
    ]
    for t in swapped["final"]:
        if t["unit_id"] == swapped["replacements"][0]["unit_id"]:
            t["assignments"][swapped["replacements"][0]["slot"]]["inspector_id"] = other
    failure = _first_failure(_reseal(swapped))
    assert "expected in" in failure and f"`{failure}`" in doc
    # Before closing the same swap cannot be caught: only the pick is pending, not the candidates.
    early = copy.deepcopy(ex.published)
    early["replacements"][0]["in"] = other
    next(e for e in early["log"] if e["type"] == "replace")["data"]["in"] = other
    early["final"] = swapped["final"]
    assert engine.verify_bundle(_reseal(early)) == []


def test_the_log_heads_command_of_the_doc_prints_every_head(tmp_path):
    doc = _doc()
    command = next(line for line in doc.splitlines() if "verify.log_heads" in line)
    code = re.search(r'python3 -c "(.*)"$', command).group(1)  # the shell passes \\n on as is
    (tmp_path / "verify.py").write_bytes((ROOT / "webapp" / "draw" / "engine.py").read_bytes())
    (tmp_path / "bundle.json").write_text(example_mod.bundle_json(worked_example().closed), encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [e.head for e in worked_example().events]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_verify_page_shows_the_same_v2_example(client, db, lang):
    ex = worked_example()
    if lang == "en":
        with client.session_transaction() as session:
            session["lang"] = "en"
    html = client.get("/public/verify").get_data(as_text=True)
    for value in (ex.pool_hash, ex.commitment, ex.replacement_commitment, ex.seed, ex.rseed, ex.events[-1].head):
        assert value[:8] in html and value[-8:] in html
    for u in ex.units:
        assert u.ticket in html and u.key in html
    for line in ex.output_published + ex.output_closed:
        assert line in html
    assert "suijian-draw/2" in html
    if lang == "zh":
        for words in (
            "递补承诺值",
            "递补密钥",
            "抽取公示名册",
            "记录链校验值",
            "递补 pending closing",
            "python3 verify.py bundle.json",
        ):
            assert words in html, words
        rep = ex.replacement
        assert f"结果是{rep.came_in}" in html and "请假或借调" in html
