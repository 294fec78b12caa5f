"""A deliberately plain second implementation of ``suijian-draw/2``, written from DRAW_SPEC.md alone.

No fast paths, no shared code with ``webapp/draw/engine.py`` (nothing is imported from it): loops and
sorts exactly as the spec words them, so that the engine's shortcuts are checked against the text.
``build_bundle`` runs a whole ceremony (commit, witnesses, draw, 递补, publish, close) and returns the
bundle and log the spec describes; tests feed it to the engine's verifier.
"""

from __future__ import annotations

import hashlib
import json

SPEC = "suijian-draw/2"


def canonical(x) -> bytes:
    return json.dumps(x, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def H(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


# 1. Seeds ------------------------------------------------------------------------------------------


def seed_of(pool_hash: str, server_secret_hex: str, witness: list[str]) -> str:
    return H(canonical({"spec": SPEC, "pool_hash": pool_hash, "secret": server_secret_hex, "witness": witness}))


def rseed_of(seed: str, replacement_secret_hex: str) -> str:
    return H(canonical({"spec": SPEC, "seed": seed, "replacement_secret": replacement_secret_hex}))


# 2. Randomness -------------------------------------------------------------------------------------


def R(seed: str, s: str) -> int:
    seed_hash = H(seed.encode())
    return int(H((seed_hash + s).encode("utf-8")), 16)


def T(seed: str, s: str) -> int:
    digits = "{:064d}".format(R(seed, s))[::-1]  # noqa: UP032 (the spec's own words)
    return int(digits.ljust(78, "0"))


def key(seed: str, s: str, w: int) -> tuple[int, str]:
    return (T(seed, s) * 100 // w, s)


def uniform(seed: str, s: str, n: int) -> int:
    return R(seed, s) % n


# 3. Selection --------------------------------------------------------------------------------------


def dept_lists(pool: dict, d: str) -> tuple[list[dict], list[dict]]:
    P = sorted([i for i in pool["inspectors"] if i["dept"] == d], key=lambda i: i["id"])
    L = [i for i in P if i["can_lead"]]
    return P, L


def caps(pool: dict, n: int) -> dict[str, tuple[int, int]]:
    """{inspector id: (capL, capA)} for every inspector of a department that has slots."""
    out: dict[str, tuple[int, int]] = {}
    for d in sorted({s["dept"] for s in pool["slots"]}):
        P, L = dept_lists(pool, d)
        e = {}
        for i in P:
            a = 0
            for day in pool["working_days"]:
                if day not in i["unavailable"]:
                    a += 1
            e[i["id"]] = i["weight"] * a
        S = n * len([s for s in pool["slots"] if s["dept"] == d])
        SL = n * len([s for s in pool["slots"] if s["dept"] == d and s["role"] == "lead"])
        SA = S - SL
        E = sum(e[i["id"]] for i in P)
        EL = sum(e[i["id"]] for i in L)
        capL = {}
        for i in P:
            capL[i["id"]] = ceil_div(SL * e[i["id"]], EL) if i in L and EL > 0 else 0
        room = {}
        for i in P:
            if SL == 0 or EL == 0:
                room[i["id"]] = e[i["id"]]
            elif i in L:
                room[i["id"]] = max(0, e[i["id"]] * (S * EL - SL * E))
            else:
                room[i["id"]] = e[i["id"]] * S * EL
        R_d = sum(room.values())
        for i in P:
            capA = ceil_div(SA * room[i["id"]], R_d) if R_d > 0 else 0
            out[i["id"]] = (capL[i["id"]], capA)
    return out


def weighted_pick(seed: str, Q: list[dict], prefix: str, is_ok, fallback_prefix: str, fallback_set: list[dict]):
    """The 64-try loop of section 3 over Q, then the key fallback among ``fallback_set``."""
    W = sum(i["weight"] for i in Q)
    for j in range(64):
        u = uniform(seed, prefix + "#" + str(j), W)
        cum = 0
        for i in Q:
            cum += i["weight"]
            if cum > u:
                break
        if is_ok(i):
            return i
    if not fallback_set:
        return None
    return min(fallback_set, key=lambda i: key(seed, fallback_prefix + i["id"], i["weight"]))


def draw(pool: dict, seed: str) -> dict:
    units = pool["units"]
    drawn = []
    for stratum in sorted(pool["quotas"]):
        ranked = sorted(
            [u for u in units if u["stratum"] == stratum], key=lambda u: key(seed, "unit:" + u["id"], u["weight"])
        )
        drawn += ranked[: pool["quotas"][stratum]]
    drawn.sort(key=lambda u: key(seed, "unit:" + u["id"], u["weight"]))
    n = len(drawn)
    cap = caps(pool, n)
    leads: dict[str, int] = {}
    assists: dict[str, int] = {}
    result, unfillable = [], []
    for t, unit in enumerate(drawn):
        day = pool["working_days"][t % len(pool["working_days"])]
        on_task: list[str] = []
        assignments = []
        for k, slot in enumerate(pool["slots"]):
            P, L = dept_lists(pool, slot["dept"])
            lead = slot["role"] == "lead"
            Q = L if lead else P
            candidates = [
                i
                for i in Q
                if unit["id"] not in i["conflicts"] and i["id"] not in on_task and day not in i["unavailable"]
            ]
            counts = leads if lead else assists
            preferred = [i for i in candidates if counts.get(i["id"], 0) < cap[i["id"]][0 if lead else 1]]
            if not preferred:
                preferred = candidates
            chosen = None
            if candidates:
                chosen = weighted_pick(
                    seed,
                    Q,
                    "insp:" + unit["id"] + ":" + str(k),
                    lambda i, preferred=preferred: i in preferred,
                    "insp:" + unit["id"] + ":" + str(k) + ":",
                    preferred,
                )
            if chosen is None:
                unfillable.append({"unit_id": unit["id"], "slot": k, "planned_date": day})
                assignments.append({"slot": k, "inspector_id": None})
                continue
            counts[chosen["id"]] = counts.get(chosen["id"], 0) + 1
            on_task.append(chosen["id"])
            assignments.append({"slot": k, "inspector_id": chosen["id"]})
        result.append({"unit_id": unit["id"], "planned_date": day, "assignments": assignments})
    return {"result": result, "unfillable": unfillable}


def replace(pool: dict, rseed: str, task: dict, k: int, r: int, ever: set[str], excluded_now: dict[str, str]):
    """The r-th 递补 of slot k: (winner id or None, candidates, excluded_now list)."""
    slot = pool["slots"][k]
    P, L = dept_lists(pool, slot["dept"])
    Q = L if slot["role"] == "lead" else P
    eligible = [
        i
        for i in Q
        if task["unit_id"] not in i["conflicts"]
        and i["id"] not in ever
        and task["planned_date"] not in i["unavailable"]
    ]
    excluded = [{"id": i["id"], "reason": excluded_now[i["id"]]} for i in eligible if i["id"] in excluded_now]
    candidates = [i for i in eligible if i["id"] not in excluded_now]
    if not candidates:
        return None, [], excluded
    unit_id = task["unit_id"]
    chosen = weighted_pick(
        rseed,
        Q,
        "repl:" + unit_id + ":" + str(k) + ":" + str(r),
        lambda i: i in candidates,
        "repl:" + unit_id + ":" + str(k) + ":" + str(r) + ":",
        candidates,
    )
    return chosen["id"], [i["id"] for i in candidates], excluded


# The log and a whole ceremony ----------------------------------------------------------------------


def head0(draw_id: str) -> str:
    return H(canonical({"spec": SPEC, "draw": draw_id}))


def next_head(prev: str, event: dict) -> str:
    return H(canonical({"prev": prev, "event": event}))


def build_bundle(
    pool: dict,
    *,
    server_secret: bytes,
    replacement_secret: bytes,
    witness: list[str],
    refills: list[tuple[int, int, str, dict[str, str]]] = (),
    close: bool = True,
    abandon: str | None = None,
    draw_id: str = "D-PLAIN",
) -> dict:
    """Run the ceremony the plain way; ``refills`` are (task index, slot, reason, excluded_now map)."""
    clock = iter(f"2027-01-0{d}T0{h}:00:00Z" for d in range(1, 10) for h in range(10))
    log: list[dict] = []

    def event(kind: str, data: dict) -> str:
        log.append({"n": len(log) + 1, "type": kind, "at": next(clock), "data": json.loads(canonical(data))})
        return log[-1]["at"]

    meta = {"id": draw_id, "org": "O-1", "item": "fire-duty", "period": "2027-01"}
    pool_hash = H(canonical(pool))
    commitment, replacement_commitment = H(server_secret), H(replacement_secret)
    committed_at = event(
        "commit",
        {
            **{k: meta[k] for k in ("org", "item", "period")},
            "pool_hash": pool_hash,
            "commitment": commitment,
            "replacement_commitment": replacement_commitment,
        },
    )
    for value in witness:
        event("witness", {"value": value})
    seed = seed_of(pool_hash, server_secret.hex(), witness) if witness else None
    result: list[dict] = []
    drawn_at = None
    replacements: list[dict] = []
    if abandon is None:
        result = draw(pool, seed)["result"]
        drawn_at = event("draw", {"result_hash": H(canonical(result))})
        rseed = rseed_of(seed, replacement_secret.hex())
        holders = {t["unit_id"]: [a["inspector_id"] for a in t["assignments"]] for t in result}
        ever = {t["unit_id"]: {a["inspector_id"] for a in t["assignments"] if a["inspector_id"]} for t in result}
        rounds: dict[tuple[str, int], int] = {}
        for index, k, reason, excluded_now in refills:
            task = result[index]
            u = task["unit_id"]
            r = rounds.get((u, k), 0) + 1
            winner, candidates, excluded = replace(pool, rseed, task, k, r, ever[u], excluded_now)
            if winner is None:
                continue  # cannot be refilled: nothing is logged
            data = {
                "unit_id": u,
                "slot": k,
                "round": r,
                "out": holders[u][k],
                "in": winner,
                "reason": reason,
                "candidates": candidates,
                "excluded_now": excluded,
            }
            at = event("replace", data)
            replacements.append({"seq": len(replacements) + 1, **data, "at": at})
            holders[u][k] = winner
            ever[u].add(winner)
            rounds[(u, k)] = r
    else:
        event("abandon", {"reason": abandon})
    published_at = event("publish", {"server_secret": server_secret.hex()})
    closed_at = event("close", {"replacement_secret": replacement_secret.hex()}) if close else None
    head = head0(draw_id)
    for e in log:
        head = next_head(head, e)
    final = (
        [
            {
                "unit_id": t["unit_id"],
                "assignments": [{"slot": k, "inspector_id": i} for k, i in enumerate(holders[t["unit_id"]])],
            }
            for t in result
        ]
        if abandon is None
        else []
    )
    return {
        "spec": SPEC,
        "draw": {
            **meta,
            "status": "closed" if close else "published",
            "committed_at": committed_at,
            "drawn_at": drawn_at,
            "published_at": published_at,
            "closed_at": closed_at,
            "abandoned_reason": abandon,
        },
        "pool": pool,
        "pool_hash": pool_hash,
        "commitment": commitment,
        "replacement_commitment": replacement_commitment,
        "witness": list(witness),
        "server_secret": server_secret.hex(),
        "seed": seed,
        "replacement_secret": replacement_secret.hex() if close else None,
        "rseed": rseed_of(seed, replacement_secret.hex()) if close and seed else None,
        "result": result,
        "replacements": replacements,
        "final": final,
        "log": log,
        "log_head": head,
    }
