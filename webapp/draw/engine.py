"""SuiJian draw engine and standalone verifier, specs ``suijian-draw/2`` and ``suijian-draw/1``.

This one file is both the engine the web application imports to run draws and the standalone verifier
anyone downloads from the public site as ``verify.py``: the code that drew a plan is exactly the code that
verifies it. It must therefore stay importable alone, with the standard library only, and run on Python 3.8
or later (tests check both).

Verify a published bundle with nothing but Python 3 and this file::

    python verify.py bundle.json              # the file alone, in any directory
    python -m webapp.draw.verify bundle.json  # inside the SuiJian repository (runs this file's main)

Either prints ``PASS`` followed by the values to compare with the public register (exit status 0), or
``FAIL: <first difference>`` (exit status 1); an unreadable or invalid file prints an error (exit status 2).

Every draw committed from now on uses ``suijian-draw/2`` (``SPEC``); bundles of ``suijian-draw/1``
(``SPEC_V1``, draws committed before) verify exactly as they always did.  Pool objects are plain dicts
exactly as they appear in the bundle (DRAW_SPEC.md section 5)::

    {"units": [{"id", "stratum", "weight"}],
     "inspectors": [{"id", "dept", "can_lead", "weight", "conflicts", "unavailable"}],
     "quotas": {stratum: count}, "slots": [{"dept", "role"}], "working_days": ["YYYY-MM-DD", ...],
     "excluded": [{"unit_id", "reason"}]}                                     # /2 only

Public functions: ``canonical``, ``pool_hash``, ``new_secret``, ``commitment``, ``normalise_witness``,
``compute_seed``, ``replacement_seed``, ``ticket``, ``key``, ``uniform``, ``validate_pool``,
``canonical_pool_problem``, ``draw``, ``feasibility``, ``load_caps``, ``replacement_candidates``,
``check_replacement_candidates``, ``ever_assigned_to``, ``replace``, ``head0``, ``next_head``,
``make_event``, ``log_heads``, ``result_hash``, ``verify_bundle``, ``summary`` and ``main``.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime
import hashlib
import heapq
import json
import re
import secrets
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

SPEC = "suijian-draw/2"
"""The spec every new commitment uses."""

SPEC_V1 = "suijian-draw/1"
"""The spec of draws committed before ``suijian-draw/2``; their bundles still verify."""

SPECS = (SPEC_V1, SPEC)

LEAD_ROLE = "lead"
"""The slot role that requires ``can_lead``; every other role accepts any inspector of the dept."""

MIN_WEIGHT = 1
MAX_WEIGHT = 1000

EVENT_TYPES = ("commit", "witness", "draw", "replace", "abandon", "publish", "close")
"""The ceremony log's event types (DRAW_SPEC section 1)."""

EXCLUSION_REASONS = ("leave", "frozen", "certificate", "conflict", "inactive", "other")
"""Reason codes of ``excluded_now`` entries (who the system excludes at the moment of a 递补)."""

TRIES = 64
"""Weighted sampling tries per pick before the key fallback (spec /2 section 3)."""

_TICKET_DIGITS = 78  # 2**256 has 78 decimal digits: every ticket is an integer below 10**78
_MAX_MESSAGES = 50  # verify_bundle stops collecting differences after this many
_MAX_ID_LENGTH = 200
_MAX_LEVEL = 8  # _lowest checks the low j bits of a hash on its last byte first
_HEX = frozenset("0123456789abcdef")
_AT = re.compile(r"\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\Z")
_DAY = re.compile(r"\A\d{4}-\d{2}-\d{2}\Z")

__all__ = [
    "EVENT_TYPES",
    "EXCLUSION_REASONS",
    "LEAD_ROLE",
    "SPEC",
    "SPECS",
    "SPEC_V1",
    "canonical",
    "canonical_pool_problem",
    "check_replacement_candidates",
    "commitment",
    "compute_seed",
    "draw",
    "ever_assigned_to",
    "feasibility",
    "head0",
    "key",
    "load_caps",
    "log_heads",
    "main",
    "make_event",
    "new_secret",
    "next_head",
    "normalise_witness",
    "pool_hash",
    "replace",
    "replacement_candidates",
    "replacement_seed",
    "result_hash",
    "summary",
    "ticket",
    "uniform",
    "validate_pool",
    "verify_bundle",
]


# ---------------------------------------------------------------------------------------------------
# 1. Ceremony and seed
# ---------------------------------------------------------------------------------------------------


def canonical(x: Any) -> bytes:
    """Return the canonical JSON encoding of ``x``: sorted keys, no spaces, UTF-8, non-ASCII kept."""
    return json.dumps(x, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def pool_hash(pool: Mapping[str, Any]) -> str:
    """Return ``sha256(canonical(pool)).hexdigest()``, the fingerprint shown at commitment time."""
    return hashlib.sha256(canonical(pool)).hexdigest()


def new_secret() -> bytes:
    """Return a fresh 32-byte server secret (``secrets.token_bytes(32)``)."""
    return secrets.token_bytes(32)


def commitment(secret: bytes) -> str:
    """Return the public commitment to the server secret: ``sha256(secret).hexdigest()``."""
    if not isinstance(secret, (bytes, bytearray)):
        raise TypeError("the server secret must be bytes")
    return hashlib.sha256(bytes(secret)).hexdigest()


def normalise_witness(value: str) -> str:
    """Normalise one witness entry as typed on the spot: Unicode NFC, then strip surrounding whitespace."""
    if not isinstance(value, str):
        raise TypeError("a witness value must be a string")
    return unicodedata.normalize("NFC", value).strip()


def _is_lower_hex(value: Any, length: int) -> bool:
    return isinstance(value, str) and len(value) == length and all(c in _HEX for c in value)


def _check_spec(spec: Any) -> str:
    if spec not in SPECS:
        raise ValueError(f"unknown spec {spec!r}; this engine knows {', '.join(SPECS)}")
    return spec


def compute_seed(pool_hash: str, secret_hex: str, witness_list: Sequence[str], spec: str = SPEC) -> str:
    """Return the draw seed (64 lowercase hex digits).

    ``seed = sha256(canonical({"spec": spec, "pool_hash": pool_hash, "secret": secret_hex,
    "witness": [v1, v2, ...]})).hexdigest()``.

    The witness values are hashed exactly as given, in entry order.  They must already be normalised
    (``normalise_witness``) and non-empty, and there must be at least one: anything else raises
    ``ValueError`` rather than silently hashing something other than what the bundle shows.
    ``pool_hash`` and ``secret_hex`` must be 64 lowercase hex digits (``server_secret.hex()``).
    """
    _check_spec(spec)
    if not _is_lower_hex(pool_hash, 64):
        raise ValueError("pool_hash must be 64 lowercase hex digits")
    if not _is_lower_hex(secret_hex, 64):
        raise ValueError("the server secret must be 64 lowercase hex digits (32 bytes)")
    if isinstance(witness_list, str) or not isinstance(witness_list, (list, tuple)):
        raise ValueError("the witness values must be a list of strings")
    if not witness_list:
        raise ValueError("at least one witness value is required")
    for n, value in enumerate(witness_list, 1):
        if not isinstance(value, str):
            raise ValueError(f"witness value {n} is not a string")
        if not value:
            raise ValueError(f"witness value {n} is empty")
        if normalise_witness(value) != value:
            raise ValueError(f"witness value {n} is not NFC-normalised and stripped")
    document = {"spec": spec, "pool_hash": pool_hash, "secret": secret_hex, "witness": list(witness_list)}
    return hashlib.sha256(canonical(document)).hexdigest()


def replacement_seed(seed: str, replacement_secret_hex: str) -> str:
    """Return ``rseed``, the seed of every 递补 of a /2 draw (spec section 1.6).

    ``rseed = sha256(canonical({"spec": "suijian-draw/2", "seed": seed,
    "replacement_secret": replacement_secret_hex})).hexdigest()``; both must be 64 lowercase hex digits.
    """
    if not _is_lower_hex(seed, 64):
        raise ValueError("the seed must be 64 lowercase hex digits")
    if not _is_lower_hex(replacement_secret_hex, 64):
        raise ValueError("the replacement secret must be 64 lowercase hex digits (32 bytes)")
    document = {"spec": SPEC, "seed": seed, "replacement_secret": replacement_secret_hex}
    return hashlib.sha256(canonical(document)).hexdigest()


# ---------------------------------------------------------------------------------------------------
# 2. Tickets
# ---------------------------------------------------------------------------------------------------


def _seed_state(seed: str) -> Any:
    """Return a sha256 object that has already absorbed ``sha256(seed).hexdigest()``.

    Copying it and feeding the id string gives ``sha256(seed_hash + s)`` without re-hashing the prefix.
    """
    if not isinstance(seed, str):
        raise TypeError("the seed must be a string")
    seed_hash = hashlib.sha256(seed.encode("utf-8")).hexdigest()
    return hashlib.sha256(seed_hash.encode("ascii"))


def _ticket_from_hash(h: int) -> int:
    """Rivest's ticket as an integer: reverse the (at least 64) decimal digits of ``h``, pad to 78."""
    return int(format(h, "064d")[::-1].ljust(_TICKET_DIGITS, "0"))


def _check_weight(weight: Any) -> int:
    if type(weight) is not int or not MIN_WEIGHT <= weight <= MAX_WEIGHT:
        raise ValueError(f"weight must be an integer {MIN_WEIGHT}..{MAX_WEIGHT}, got {weight!r}")
    return weight


def ticket(seed: str, s: str) -> int:
    """Return the ticket ``T`` of id string ``s`` under ``seed`` (spec section 2).

    ``"0." + str(T).zfill(78)`` (trailing zeros aside) is the ticket number of
    ``consistent_sampler.first_fraction(s, seed)``; ``T`` lies in ``[0, 10**78)``.
    """
    state = _seed_state(seed)
    state.update(s.encode("utf-8"))
    return _ticket_from_hash(int.from_bytes(state.digest(), "big"))


def key(seed: str, s: str, weight: int) -> tuple[int, str]:
    """Return the sort key ``(T * 100 // weight, s)``; the lowest key wins.

    ``weight`` is an integer percentage 1..1000 (100 = normal); anything else raises ``ValueError``.
    """
    _check_weight(weight)
    return (ticket(seed, s) * 100 // weight, s)


def _r_value(state: Any) -> int:
    return int.from_bytes(state.digest(), "big")


def uniform(seed: str, s: str, n: int) -> int:
    """Return ``uniform(s, n) = R(s) % n`` (spec section 2): ``R(s)`` is the 256-bit hash as an integer."""
    if type(n) is not int or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    state = _seed_state(seed)
    state.update(s.encode("utf-8"))
    return _r_value(state) % n


def _smallest(
    base: Any, names: Sequence[str], encoded: Sequence[bytes], weights: Sequence[int], count: int
) -> list[tuple[int, str, int]]:
    """Return the ``count`` smallest keys among ``prefix + names[i]``, as ``(K, names[i], i)``, ascending.

    ``base`` is a sha256 object that has absorbed ``seed_hash + prefix``; ``encoded[i]`` is
    ``names[i]`` in UTF-8.  The result is exactly ``sorted(keys)[:count]`` where
    ``keys[i] = (T_i * 100 // weights[i], prefix + names[i])`` (the common prefix does not change the
    order), but computed faster: turning a 256-bit hash into its reversed decimal digits is the
    expensive part, so it is done only for the ids that can possibly be among the ``count`` smallest.

    Why that is exact: the first ``j`` digits of ``T`` are the last ``j`` decimal digits of the hash
    ``h`` reversed, so ``h % 10**j != 0`` implies ``T >= 10**(78 - j)`` and hence
    ``K >= L = 10**(78 - j) * 100 // max(weights)``.  If, among the ids with ``h % 10**j == 0``,
    the ``count``-th smallest exact key is below ``L``, no other id can reach the first ``count``.
    Otherwise ``j`` is lowered, down to 0 (every id computed exactly).
    """
    n = len(names)
    if count <= 0 or n == 0:
        return []
    copy = base.copy
    digests: list[bytes] = []
    append = digests.append
    for b in encoded:
        state = copy()
        state.update(b)
        append(state.digest())
    from_bytes = int.from_bytes
    hashes = [from_bytes(d, "big") for d in digests]

    def exact(indices: Iterable[int]) -> list[tuple[int, str, int]]:
        return sorted((_ticket_from_hash(hashes[i]) * 100 // weights[i], names[i], i) for i in indices)

    if count >= n:
        return exact(range(n))
    w_max = max(weights)
    # Expected number of ids with K < L at level j is sum(weights) / (w_max * 10**j): aim for a margin.
    wanted = 2 * count + 8
    total = sum(weights)
    j = 0
    while j < 60 and total >= wanted * w_max * 10 ** (j + 1):
        j += 1
    while j > 0:
        modulus = 10**j
        chosen = [i for i, h in enumerate(hashes) if not h % modulus]
        if len(chosen) >= count:
            keys = exact(chosen)[:count]
            if keys[-1][0] < 10 ** (_TICKET_DIGITS - j) * 100 // w_max:
                return keys
        j -= 1
    return heapq.nsmallest(
        count, ((_ticket_from_hash(h) * 100 // weights[i], names[i], i) for i, h in enumerate(hashes))
    )


# ---------------------------------------------------------------------------------------------------
# The pool
# ---------------------------------------------------------------------------------------------------


class _Inspector:
    """One pool inspector, with sets for fast filtering."""

    __slots__ = ("can_lead", "conflicts", "dept", "id", "id_bytes", "index", "unavailable", "weight")

    def __init__(
        self,
        index: int,
        inspector_id: str,
        dept: str,
        can_lead: bool,
        weight: int,
        conflicts: frozenset[str],
        unavailable: frozenset[str],
    ) -> None:
        self.index = index
        self.id = inspector_id
        self.id_bytes = inspector_id.encode("ascii")
        self.dept = dept
        self.can_lead = can_lead
        self.weight = weight
        self.conflicts = conflicts
        self.unavailable = unavailable


class _Pool:
    """A validated pool with the indexes the draw needs."""

    __slots__ = (
        "by_id",
        "conflicted",
        "conflicted_unit_stratum",
        "dept_members",
        "inspectors",
        "quotas",
        "slots",
        "strata",
        "working_days",
    )

    def __init__(self) -> None:
        self.strata: dict[str, tuple[list[str], list[int]]] = {}
        self.quotas: dict[str, int] = {}
        self.inspectors: list[_Inspector] = []
        self.by_id: dict[str, _Inspector] = {}
        self.dept_members: dict[str, list[_Inspector]] = {}
        self.conflicted: dict[str, set[int]] = {}  # unit id -> indexes of conflicted inspectors
        self.conflicted_unit_stratum: dict[str, str] = {}  # conflicted unit id (in the pool) -> stratum
        self.slots: list[tuple[str, str]] = []
        self.working_days: list[str] = []


def _only_id_characters(text: str) -> bool:
    """True if ``text`` has only ASCII letters, digits, ``-`` and ``_`` (C-speed, no per-char loop)."""
    rest = text.replace("-", "").replace("_", "")
    return text.isascii() and (rest.isalnum() or not rest)


def _is_id(value: Any) -> bool:
    """Public ids are non-empty strings of ASCII letters, digits, ``-`` and ``_``."""
    return type(value) is str and 0 < len(value) <= _MAX_ID_LENGTH and _only_id_characters(value)


def _check_unit(n: int, raw: Any) -> None:
    """Raise ``ValueError`` describing what is wrong with ``pool.units[n]``, if anything."""
    if not isinstance(raw, Mapping) or not all(field in raw for field in ("id", "stratum", "weight")):
        raise ValueError(f"pool.units[{n}] must be an object with id, stratum and weight")
    if not _is_id(raw["id"]):
        raise ValueError(f"pool.units[{n}].id must be letters, digits, '-' or '_', got {raw['id']!r}")
    if type(raw["stratum"]) is not str or not raw["stratum"]:
        raise ValueError(f"pool.units[{n}].stratum must be a non-empty string")
    try:
        _check_weight(raw["weight"])
    except ValueError as exc:
        raise ValueError(f"pool.units[{n}]: {exc}") from None


def _unit_columns(units: list[Any]) -> tuple[list[str], list[str], list[int]]:
    """Return the units' ids, strata and weights as three lists, validating them.

    A million units are checked column by column with C-speed string and set operations; only when
    that finds a problem are the units checked one by one, to name the first bad one.
    """
    try:
        ids = [raw["id"] for raw in units]
        stratum_of = [raw["stratum"] for raw in units]
        weights = [raw["weight"] for raw in units]
        joined = "".join(ids)  # TypeError unless every id is a str
        valid = not ids or (
            _only_id_characters(joined)
            and min(map(len, ids)) >= 1
            and max(map(len, ids)) <= _MAX_ID_LENGTH
            and set(map(type, weights)) == {int}
            and min(weights) >= MIN_WEIGHT
            and max(weights) <= MAX_WEIGHT
            and all(type(name) is str and name for name in set(stratum_of))
        )
    except (KeyError, TypeError):
        valid = False
    if not valid:
        for n, raw in enumerate(units):
            _check_unit(n, raw)
        raise ValueError("pool.units is invalid")  # not reached: _check_unit names the bad unit
    return ids, stratum_of, weights


def _need_list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"{where} must be a list")
    return value


def _need_text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{where} must be a non-empty string")
    return value


def _prepare(pool: Any) -> _Pool:
    """Validate ``pool`` (raising ``ValueError`` with the first problem) and index it."""
    if not isinstance(pool, Mapping):
        raise ValueError("the pool must be an object")
    for field in ("units", "inspectors", "quotas", "slots", "working_days"):
        if field not in pool:
            raise ValueError(f"the pool has no {field!r}")
    p = _Pool()

    for n, raw in enumerate(_need_list(pool["inspectors"], "pool.inspectors")):
        where = f"pool.inspectors[{n}]"
        if not isinstance(raw, Mapping):
            raise ValueError(f"{where} must be an object")
        for field in ("id", "dept", "can_lead", "weight", "conflicts", "unavailable"):
            if field not in raw:
                raise ValueError(f"{where} has no {field!r}")
        inspector_id = raw["id"]
        if not _is_id(inspector_id):
            raise ValueError(f"{where}.id must be letters, digits, '-' or '_', got {inspector_id!r}")
        if inspector_id in p.by_id:
            raise ValueError(f"inspector {inspector_id} appears twice in the pool")
        dept = _need_text(raw["dept"], f"{where}.dept")
        if type(raw["can_lead"]) is not bool:
            raise ValueError(f"{where}.can_lead must be true or false")
        try:
            weight = _check_weight(raw["weight"])
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        conflicts = _need_list(raw["conflicts"], f"{where}.conflicts")
        unavailable = _need_list(raw["unavailable"], f"{where}.unavailable")
        for unit_id in conflicts:
            _need_text(unit_id, f"{where}.conflicts entry")
        for day in unavailable:
            _need_text(day, f"{where}.unavailable entry")
        inspector = _Inspector(
            len(p.inspectors),
            inspector_id,
            dept,
            raw["can_lead"],
            weight,
            frozenset(conflicts),
            frozenset(unavailable),
        )
        p.inspectors.append(inspector)
        p.by_id[inspector_id] = inspector
        p.dept_members.setdefault(dept, []).append(inspector)
        for unit_id in inspector.conflicts:
            p.conflicted.setdefault(unit_id, set()).add(inspector.index)

    units = _need_list(pool["units"], "pool.units")
    ids, stratum_of, weights = _unit_columns(units)
    groups: dict[str, tuple[list[str], list[int]]] = {name: ([], []) for name in set(stratum_of)}
    appenders = {name: (group[0].append, group[1].append) for name, group in groups.items()}
    for unit_id, stratum, weight in zip(ids, stratum_of, weights):  # noqa: B905 (strict= needs 3.10)
        add_id, add_weight = appenders[stratum]
        add_id(unit_id)
        add_weight(weight)
    p.strata = groups
    if p.conflicted:
        p.conflicted_unit_stratum = {
            unit_id: stratum
            for unit_id, stratum in zip(ids, stratum_of)  # noqa: B905 (strict= needs 3.10)
            if unit_id in p.conflicted
        }
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        for unit_id in ids:
            if unit_id in seen:
                raise ValueError(f"unit {unit_id} appears twice in the pool")
            seen.add(unit_id)

    quotas = pool["quotas"]
    if not isinstance(quotas, Mapping):
        raise ValueError("pool.quotas must be an object")
    for stratum, quota in quotas.items():
        if type(quota) is not int or quota < 0:
            raise ValueError(f"pool.quotas[{stratum!r}] must be a non-negative integer")
    p.quotas = dict(quotas)

    for n, raw in enumerate(_need_list(pool["slots"], "pool.slots")):
        if not isinstance(raw, Mapping) or "dept" not in raw or "role" not in raw:
            raise ValueError(f"pool.slots[{n}] must be an object with dept and role")
        p.slots.append(
            (_need_text(raw["dept"], f"pool.slots[{n}].dept"), _need_text(raw["role"], f"pool.slots[{n}].role"))
        )

    days = _need_list(pool["working_days"], "pool.working_days")
    for n, day in enumerate(days):
        _need_text(day, f"pool.working_days[{n}]")
    if len(set(days)) != len(days):
        raise ValueError("pool.working_days lists a day twice")
    p.working_days = list(days)
    return p


_POOL_KEYS = ("excluded", "inspectors", "quotas", "slots", "units", "working_days")
_UNIT_KEYS = ("id", "stratum", "weight")
_INSPECTOR_KEYS = ("can_lead", "conflicts", "dept", "id", "unavailable", "weight")


def _strictly_ascending(values: list[Any]) -> bool:
    """True if ``values`` is sorted without repeats (code-point order for strings)."""
    return all(a < b for a, b in zip(values, values[1:]))  # noqa: B905, RUF007 (Python 3.8)


def canonical_pool_problem(pool: Any) -> str | None:
    """Return the first way ``pool`` is not in the canonical /2 form (spec section 5), or ``None``.

    The canonical form: exactly the keys units, inspectors, quotas, slots, working_days and excluded;
    units exactly ``{id, stratum, weight}`` sorted by id, every stratum a key of ``quotas``; inspectors
    exactly ``{id, dept, can_lead, weight, conflicts, unavailable}`` sorted by id, with ``conflicts`` and
    ``unavailable`` sorted without repeats; ``excluded`` entries exactly ``{unit_id, reason}`` sorted by
    ``unit_id``, none of them among the units; ``working_days`` ascending dates without repeats; slots
    exactly ``{dept, role}`` with each department's lead slot before its other slots.  Also every check of
    ``validate_pool``.
    """
    try:
        p = _prepare(pool)
    except ValueError as exc:
        return str(exc)
    if sorted(pool) != list(_POOL_KEYS):
        return f"the pool's keys must be exactly {', '.join(_POOL_KEYS)}"
    units = pool["units"]
    if any(len(u) != 3 for u in units):
        for n, u in enumerate(units):
            if sorted(u) != list(_UNIT_KEYS):
                return f"pool.units[{n}] must have exactly the keys id, stratum and weight"
    ids = [u["id"] for u in units]
    if ids != sorted(ids):
        return "pool.units are not sorted by id"
    missing = sorted(set(p.strata) - set(p.quotas))
    if missing:
        return f"stratum {missing[0]!r} of the units has no quota"
    ins_ids = [i.id for i in p.inspectors]
    if ins_ids != sorted(ins_ids):
        return "pool.inspectors are not sorted by id"
    for n, raw in enumerate(pool["inspectors"]):
        if sorted(raw) != list(_INSPECTOR_KEYS):
            return f"pool.inspectors[{n}] must have exactly the keys {', '.join(_INSPECTOR_KEYS)}"
        for field in ("conflicts", "unavailable"):
            if not _strictly_ascending(raw[field]):
                return f"pool.inspectors[{n}].{field} is not sorted without repeats"
    days = pool["working_days"]
    for day in days:
        if not _DAY.match(day):
            return f"working day {day!r} is not a YYYY-MM-DD date"
    if not _strictly_ascending(days):
        return "pool.working_days are not ascending"
    seen_other: set[str] = set()
    for n, raw in enumerate(pool["slots"]):
        if sorted(raw) != ["dept", "role"]:
            return f"pool.slots[{n}] must have exactly the keys dept and role"
        if raw["role"] == LEAD_ROLE and raw["dept"] in seen_other:
            return f"pool.slots[{n}]: the lead slot of {raw['dept']} comes after its other slots"
        if raw["role"] != LEAD_ROLE:
            seen_other.add(raw["dept"])
    excluded = pool["excluded"]
    if not isinstance(excluded, list):
        return "pool.excluded must be a list"
    for n, raw in enumerate(excluded):
        if not isinstance(raw, Mapping) or sorted(raw) != ["reason", "unit_id"]:
            return f"pool.excluded[{n}] must be an object with exactly unit_id and reason"
        if not _is_id(raw["unit_id"]) or not isinstance(raw["reason"], str) or not raw["reason"]:
            return f"pool.excluded[{n}] needs a unit id and a reason"
    excluded_ids = [raw["unit_id"] for raw in excluded]
    if not _strictly_ascending(excluded_ids):
        return "pool.excluded is not sorted by unit_id without repeats"
    both = set(excluded_ids).intersection(ids)
    if both:
        return f"excluded unit {min(both)} is also in the pool"
    return None


def validate_pool(pool: Mapping[str, Any], spec: str | None = None) -> None:
    """Raise ``ValueError`` describing the first problem if ``pool`` is not a well-formed pool.

    Checks: the five fields exist; ids are unique public ids (ASCII letters, digits, ``-``, ``_``);
    weights are integers 1..1000; ``can_lead`` is a boolean; conflicts and unavailable days are lists
    of strings; quotas are non-negative integers; slots have a dept and a role; working days are
    distinct strings.  A stratum absent from ``quotas`` simply gets quota 0.  With ``spec=SPEC`` the
    pool must also be in the canonical /2 form (``canonical_pool_problem``): check that before a /2
    commitment, since the verifier rejects any other form.
    """
    if spec is not None and _check_spec(spec) == SPEC:
        problem = canonical_pool_problem(pool)
        if problem:
            raise ValueError(problem)
    else:
        _prepare(pool)


# ---------------------------------------------------------------------------------------------------
# 3. Selection
# ---------------------------------------------------------------------------------------------------


def _task_count(p: _Pool) -> int:
    return sum(min(p.quotas.get(stratum, 0), len(ids)) for stratum, (ids, _) in p.strata.items())


def _draw_units(p: _Pool, seed_state: Any) -> list[tuple[int, str]]:
    """Return the drawn units as ``(K, unit_id)`` in task order."""
    base = seed_state.copy()
    base.update(b"unit:")
    drawn: list[tuple[int, str]] = []
    for stratum in sorted(p.strata):
        quota = p.quotas.get(stratum, 0)
        if quota <= 0:
            continue
        ids, weights = p.strata[stratum]
        encoded = [unit_id.encode("ascii") for unit_id in ids]
        drawn.extend((k, unit_id) for k, unit_id, _ in _smallest(base, ids, encoded, weights, quota))
    # key = (K, "unit:" + id); the common prefix does not change the order, so (K, id) sorts the same.
    drawn.sort()
    return drawn


class _Availability:
    """Per (slot, date): the inspectors of the slot's dept who may take the role and are free that day."""

    def __init__(self, p: _Pool) -> None:
        self._p = p
        self._cache: dict[tuple[int, str], list[_Inspector]] = {}

    def __call__(self, slot: int, day: str) -> list[_Inspector]:
        found = self._cache.get((slot, day))
        if found is None:
            dept, role = self._p.slots[slot]
            found = [
                ins
                for ins in self._p.dept_members.get(dept, ())
                if (role != LEAD_ROLE or ins.can_lead) and day not in ins.unavailable
            ]
            self._cache[(slot, day)] = found
        return found


class _Choices:
    """One candidate list for the inspector picks, as parallel arrays.

    ``bounds[j]`` is ``10**(78 - j) * 100 // w_max`` for the largest weight the list ever had: no id
    whose hash ``h`` has ``h % 10**j != 0`` has a key below it (see ``_smallest``).
    """

    __slots__ = ("applied", "bounds", "encoded", "idx", "names", "weights")

    def __init__(self, members: Sequence[_Inspector], applied: int = 0) -> None:
        self.idx = [m.index for m in members]
        self.names = [m.id for m in members]
        self.encoded = [m.id_bytes for m in members]
        self.weights = [m.weight for m in members]
        self.applied = applied  # how much of the dept's log of capped inspectors the arrays reflect
        w_max = max(self.weights, default=1)
        self.bounds = [10 ** (_TICKET_DIGITS - j) * 100 // w_max for j in range(_MAX_LEVEL + 1)]

    def remove(self, drop: set[int]) -> None:
        """Drop the inspectors whose pool index is in ``drop``; a smaller list keeps its bounds valid."""
        rows = [row for row in zip(self.idx, self.names, self.encoded, self.weights) if row[0] not in drop]  # noqa: B905
        self.idx = [row[0] for row in rows]
        self.names = [row[1] for row in rows]
        self.encoded = [row[2] for row in rows]
        self.weights = [row[3] for row in rows]

    def catch_up(self, log: list[int]) -> set[int]:
        """Return the inspectors capped since the arrays were built (``log[applied:]``), to be excluded.

        Once they are more than a few percent of the list they are dropped from the arrays instead
        (hashing an id that cannot be picked costs as one that can).
        """
        if self.applied == len(log):
            return set()
        pending = set(log[self.applied :])
        if len(pending) * 32 > len(self.idx) + 256:
            self.remove(pending)
            self.applied = len(log)
            return set()
        return pending


def _lowest(base: Any, choices: _Choices, excluded: set[int]) -> int | None:
    """Return the position in ``choices`` of the lowest key among the ids not in ``excluded``.

    ``base`` has absorbed ``seed_hash + prefix``; the key of position ``p`` is
    ``(ticket * 100 // weights[p], names[p])`` -- exactly ``min`` of the spec's keys (the common prefix
    does not change the order).  ``None`` if every id is excluded.  The same shortcut as ``_smallest``:
    the exact decimal ticket is computed only for ids whose hash ends in ``j`` zero decimal digits (about ten such ids),
    as the best of those is below the bound every other id's key is at least.  The hash's
    low bits are checked on the digest's last byte first (``10**j`` is divisible by ``2**j``), so most
    ids never become Python integers.
    """
    copy = base.copy
    digests: list[bytes] = []
    append = digests.append
    for b in choices.encoded:
        state = copy()
        state.update(b)
        append(state.digest())
    idx, names, weights = choices.idx, choices.names, choices.weights
    from_bytes = int.from_bytes
    # About ten ids (weights considered) are expected to have h % 10**j == 0 at the level chosen.
    w_max = max(weights, default=1)
    total = sum(weights)
    j = 0
    while j < _MAX_LEVEL and total >= 10 * w_max * 10 ** (j + 1):
        j += 1
    while j > 0:
        modulus = 10**j
        low_bits = (1 << j) - 1
        best = None
        for p in [p for p, d in enumerate(digests) if not d[31] & low_bits]:
            h = from_bytes(digests[p], "big")
            if h % modulus or (excluded and idx[p] in excluded):
                continue
            candidate = (_ticket_from_hash(h) * 100 // weights[p], names[p], p)
            if best is None or candidate < best:
                best = candidate
        if best is not None and best[0] < choices.bounds[j]:
            return best[2]
        j -= 1
    best = None
    for p, d in enumerate(digests):
        if excluded and idx[p] in excluded:
            continue
        candidate = (_ticket_from_hash(from_bytes(d, "big")) * 100 // weights[p], names[p], p)
        if best is None or candidate < best:
            best = candidate
    return None if best is None else best[2]


def _drawn_units(p: _Pool, seed: str) -> tuple[Any, list[tuple[int, str]]]:
    """The seed's hash state and the drawn units in task order (both specs rank units alike)."""
    seed_state = _seed_state(seed)
    drawn = _draw_units(p, seed_state)
    if drawn and not p.working_days:
        raise ValueError("pool.working_days is empty")
    return seed_state, drawn


def _draw_v1(p: _Pool, seed: str) -> dict[str, list[dict[str, Any]]]:
    seed_state, drawn = _drawn_units(p, seed)
    n_tasks = len(drawn)

    # Load caps: cap = ceil(S * w / W) per dept, in exact integer arithmetic.
    slots_per_dept: dict[str, int] = {}
    for dept, _ in p.slots:
        slots_per_dept[dept] = slots_per_dept.get(dept, 0) + 1
    caps = [0] * len(p.inspectors)
    for dept, per_task in slots_per_dept.items():
        members = p.dept_members.get(dept, [])
        total_weight = sum(m.weight for m in members)
        needed = n_tasks * per_task
        for m in members:
            caps[m.index] = -(-needed * m.weight // total_weight)
    load = [0] * len(p.inspectors)
    available = _Availability(p)
    # Per (slot, day): the candidates below their cap, and all candidates.  Inspectors who reach the
    # cap are logged per dept; each below-cap list catches up with its dept's log when it is used.
    choices: dict[tuple[int, str], tuple[_Choices, _Choices]] = {}
    capped_log: dict[str, list[int]] = {dept: [] for dept in p.dept_members}
    encoded_prefixes = [[f"insp:{unit_id}:{k}:".encode("ascii") for k in range(len(p.slots))] for _, unit_id in drawn]

    result: list[dict[str, Any]] = []
    unfillable: list[dict[str, Any]] = []
    days = p.working_days
    no_conflicts: set[int] = set()
    for i, (_, unit_id) in enumerate(drawn):
        day = days[i % len(days)]
        conflicted = p.conflicted.get(unit_id, no_conflicts)
        on_task: set[int] = set()
        assignments: list[dict[str, Any]] = []
        for k, prefix in enumerate(encoded_prefixes[i]):
            log = capped_log.setdefault(p.slots[k][0], [])
            pair = choices.get((k, day))
            if pair is None:
                members = available(k, day)
                below = _Choices([m for m in members if load[m.index] < caps[m.index]], len(log))
                pair = choices[(k, day)] = (below, _Choices(members))
            excluded = on_task | conflicted if on_task or conflicted else no_conflicts
            base = seed_state.copy()
            base.update(prefix)
            source = pair[0]
            capped = source.catch_up(log)
            position = _lowest(base, source, excluded | capped if capped else excluded)
            if position is None:  # nobody below the cap: all candidates stay
                source = pair[1]
                position = _lowest(base, source, excluded)
            if position is None:
                unfillable.append({"unit_id": unit_id, "slot": k, "planned_date": day})
                assignments.append({"slot": k, "inspector_id": None})
                continue
            chosen = p.inspectors[source.idx[position]]
            load[chosen.index] += 1
            if load[chosen.index] == caps[chosen.index]:
                capped_log[chosen.dept].append(chosen.index)
            on_task.add(chosen.index)
            assignments.append({"slot": k, "inspector_id": chosen.id})
        result.append({"unit_id": unit_id, "planned_date": day, "assignments": assignments})
    return {"result": result, "unfillable": unfillable}


class _Group:
    """``Q`` of spec /2 section 3: a department's pool inspectors (or those who can lead), in id order."""

    __slots__ = ("cum", "members", "total")

    def __init__(self, members: Sequence[_Inspector]) -> None:
        self.members = sorted(members, key=lambda m: m.id)
        self.cum: list[int] = []
        total = 0
        for m in self.members:
            total += m.weight
            self.cum.append(total)
        self.total = total

    def sample(self, base: Any, j: int) -> _Inspector:
        """The inspector of try ``j``: the first with ``cum(i) > uniform(prefix + "#" + j, W)``.

        ``base`` has absorbed ``seed_hash + prefix + "#"``; one hash per try.
        """
        state = base.copy()
        state.update(str(j).encode("ascii"))
        return self.members[bisect.bisect_right(self.cum, _r_value(state) % self.total)]


def _groups(p: _Pool) -> dict[tuple[str, bool], _Group]:
    """``Q`` per (dept, lead slot?): ``L_d`` for a lead slot, ``P_d`` otherwise."""
    groups: dict[tuple[str, bool], _Group] = {}
    for dept, role in p.slots:
        lead = role == LEAD_ROLE
        if (dept, lead) not in groups:
            members = p.dept_members.get(dept, [])
            groups[(dept, lead)] = _Group([m for m in members if m.can_lead] if lead else members)
    return groups


def _caps_v2(p: _Pool, n_tasks: int) -> tuple[list[int], list[int]]:
    """``capL`` and ``capA`` per inspector index (spec /2 section 3), in exact integer arithmetic."""
    cap_lead = [0] * len(p.inspectors)
    cap_assist = [0] * len(p.inspectors)
    per_task: dict[str, list[int]] = {}  # dept -> [slots per task, lead slots per task]
    for dept, role in p.slots:
        counts = per_task.setdefault(dept, [0, 0])
        counts[0] += 1
        counts[1] += role == LEAD_ROLE
    days = set(p.working_days)
    n_days = len(p.working_days)
    for dept, (slots, leads) in per_task.items():
        members = p.dept_members.get(dept, [])
        e = {m.index: m.weight * (n_days - len(m.unavailable & days)) for m in members}
        s_d, sl_d = n_tasks * slots, n_tasks * leads
        sa_d = s_d - sl_d
        e_d = sum(e.values())
        el_d = sum(e[m.index] for m in members if m.can_lead)
        if el_d > 0:
            for m in members:
                if m.can_lead:
                    cap_lead[m.index] = -(-sl_d * e[m.index] // el_d)
        room = {}
        for m in members:
            if sl_d == 0 or el_d == 0:
                room[m.index] = e[m.index]
            elif m.can_lead:
                room[m.index] = max(0, e[m.index] * (s_d * el_d - sl_d * e_d))
            else:
                room[m.index] = e[m.index] * s_d * el_d
        r_d = sum(room.values())
        if r_d > 0:
            for m in members:
                cap_assist[m.index] = -(-sa_d * room[m.index] // r_d)
    return cap_lead, cap_assist


def load_caps(pool: Mapping[str, Any], n_tasks: int) -> dict[str, dict[str, int]]:
    """Return ``{inspector_id: {"lead": capL, "assist": capA}}`` for a /2 draw of ``n_tasks`` tasks.

    ``a_i`` counts the working days the inspector is available, ``e_i = weight * a_i``; leading is
    shared in proportion to ``e_i`` among those who can lead, assisting in proportion to the room each
    has left after leading (spec /2 section 3).  Inspectors of departments without slots get 0, 0.
    """
    p = _prepare(pool)
    cap_lead, cap_assist = _caps_v2(p, n_tasks)
    return {m.id: {"lead": cap_lead[m.index], "assist": cap_assist[m.index]} for m in p.inspectors}


class _Below:
    """Per (group, day): the group's inspectors available that day whose role count is below the cap."""

    __slots__ = ("_cap", "_count", "_group", "_sets")

    def __init__(self, group: _Group, count: list[int], cap: list[int]) -> None:
        self._group, self._count, self._cap = group, count, cap
        self._sets: dict[str, set[int]] = {}

    def get(self, day: str) -> set[int]:
        found = self._sets.get(day)
        if found is None:
            count, cap = self._count, self._cap
            found = {m.index for m in self._group.members if day not in m.unavailable and count[m.index] < cap[m.index]}
            self._sets[day] = found
        return found

    def capped(self, index: int) -> None:
        for members in self._sets.values():
            members.discard(index)


def _key_fallback(seed_state: Any, prefix: str, members: Iterable[_Inspector]) -> _Inspector | None:
    """The member with the lowest ``key(prefix + id, weight)``; ``None`` if there is none."""
    best = None
    for m in members:
        state = seed_state.copy()
        state.update((prefix + m.id).encode("utf-8"))
        k = (_ticket_from_hash(_r_value(state)) * 100 // m.weight, m.id)
        if best is None or k < best[0]:
            best = (k, m)
    return None if best is None else best[1]


def _draw_v2(p: _Pool, seed: str) -> dict[str, list[dict[str, Any]]]:
    seed_state, drawn = _drawn_units(p, seed)
    n_tasks = len(drawn)
    cap_lead, cap_assist = _caps_v2(p, n_tasks)
    leads = [0] * len(p.inspectors)
    assists = [0] * len(p.inspectors)
    groups = _groups(p)
    below = {
        (dept, lead): _Below(group, leads if lead else assists, cap_lead if lead else cap_assist)
        for (dept, lead), group in groups.items()
    }
    slots = [
        (k, groups[(dept, role == LEAD_ROLE)], role == LEAD_ROLE, (dept, role == LEAD_ROLE))
        for k, (dept, role) in enumerate(p.slots)
    ]
    days = p.working_days
    no_conflicts: set[int] = set()
    result: list[dict[str, Any]] = []
    unfillable: list[dict[str, Any]] = []
    for i, (_, unit_id) in enumerate(drawn):
        day = days[i % len(days)]
        conflicted = p.conflicted.get(unit_id, no_conflicts)
        on_task: set[int] = set()
        assignments: list[dict[str, Any]] = []
        for k, group, lead, group_key in slots:
            count, cap = (leads, cap_lead) if lead else (assists, cap_assist)
            chosen = None
            if group.total:
                base = seed_state.copy()
                base.update(f"insp:{unit_id}:{k}#".encode("ascii"))
                any_below = None
                for j in range(TRIES):
                    m = group.sample(base, j)
                    x = m.index
                    if x in conflicted or x in on_task or day in m.unavailable:
                        continue  # not a candidate
                    if count[x] < cap[x]:
                        chosen = m
                        break
                    if any_below is None:  # is any candidate below its cap? then only they are preferred
                        pool_below = below[group_key].get(day)
                        blocked = conflicted | on_task if conflicted else on_task
                        any_below = len(pool_below) > len(blocked) or any(y not in blocked for y in pool_below)
                    if not any_below:
                        chosen = m
                        break
                if chosen is None:
                    candidates = [
                        m
                        for m in group.members
                        if m.index not in conflicted and m.index not in on_task and day not in m.unavailable
                    ]
                    preferred = [m for m in candidates if count[m.index] < cap[m.index]] or candidates
                    chosen = _key_fallback(seed_state, f"insp:{unit_id}:{k}:", preferred)
            if chosen is None:
                unfillable.append({"unit_id": unit_id, "slot": k, "planned_date": day})
                assignments.append({"slot": k, "inspector_id": None})
                continue
            x = chosen.index
            count[x] += 1
            if count[x] == cap[x]:
                below[group_key].capped(x)
            on_task.add(x)
            assignments.append({"slot": k, "inspector_id": chosen.id})
        result.append({"unit_id": unit_id, "planned_date": day, "assignments": assignments})
    return {"result": result, "unfillable": unfillable}


def _draw(p: _Pool, seed: str, spec: str) -> dict[str, list[dict[str, Any]]]:
    return _draw_v2(p, seed) if spec == SPEC else _draw_v1(p, seed)


def draw(pool: Mapping[str, Any], seed: str, spec: str = SPEC) -> dict[str, list[dict[str, Any]]]:
    """Run the draw of spec section 3 and return ``{"result": [...], "unfillable": [...]}``.

    ``result`` lists the tasks in task order, each exactly
    ``{"unit_id", "planned_date", "assignments": [{"slot": k, "inspector_id": id}, ...]}`` with one
    assignment per slot, in slot order.

    Units (both specs): per stratum (sorted names) the ``quotas[stratum]`` lowest
    ``key("unit:" + id, weight)`` (all if fewer; a stratum missing from quotas gets 0); all drawn units
    ordered by key.  Task ``i`` is planned on ``working_days[i % len(working_days)]``.

    Inspectors, ``suijian-draw/2``: for each task and slot ``k`` the candidates are the slot's group
    ``Q`` (the dept's inspectors; those who can lead for a lead slot) not conflicted with the unit, not
    already on the task and available on the day; the preferred are those whose count in this role is
    below ``capL``/``capA`` (``load_caps``), or all candidates if none is.  Up to 64 tries sample ``Q``
    by weight with ``uniform("insp:" + unit_id + ":" + k + "#" + j, W)`` and take the first preferred
    one; else the preferred with the lowest ``key("insp:" + unit_id + ":" + k + ":" + id, weight)``.

    Inspectors, ``suijian-draw/1``: those below their load cap ``ceil(S * w / W)`` are preferred (all
    candidates if none is), and the lowest ``key("insp:" + unit_id + ":" + k + ":" + inspector_id,
    weight)`` wins.

    A slot with no candidate gets ``"inspector_id": None`` and is listed in ``unfillable`` as
    ``{"unit_id", "slot", "planned_date"}``; the task keeps all its slots (never fewer than required).
    Raises ``ValueError`` for an invalid pool or an unknown spec.
    """
    return _draw(_prepare(pool), seed, _check_spec(spec))


# ---------------------------------------------------------------------------------------------------
# Feasibility (no seed, no result)
# ---------------------------------------------------------------------------------------------------


def _cover(small: set[int], earlier: Sequence[set[int]]) -> list[int] | None:
    """Match every inspector of ``small`` to a distinct earlier slot able to take them, or return None.

    If such a matching exists, some sequence of picks for the earlier slots takes all of ``small`` and
    leaves the later slot empty.  Returns the matched earlier slot numbers.
    """
    owner: dict[int, int] = {}  # earlier slot -> inspector index

    def augment(inspector: int, tried: set[int]) -> bool:
        for j, members in enumerate(earlier):
            if inspector in members and j not in tried:
                tried.add(j)
                if j not in owner or augment(owner[j], tried):
                    owner[j] = inspector
                    return True
        return False

    for inspector in sorted(small):
        if not augment(inspector, set()):
            return None
    return sorted(owner)


def _slot_problems(sets: Sequence[set[int]]) -> list[tuple[str, int, list[int], set[int]]]:
    """Return ``(reason, slot, blocking slots, candidates)`` for each slot that may end up unfillable."""
    problems: list[tuple[str, int, list[int], set[int]]] = []
    for k, members in enumerate(sets):
        if not members:
            problems.append(("no_candidate", k, [], members))
        elif len(members) <= k:
            blocking = _cover(members, sets[:k])
            if blocking is not None:
                problems.append(("may_be_blocked", k, blocking, members))
    return problems


def feasibility(pool: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Check, without any seed, whether some draw from this pool could leave a slot unfillable.

    It never computes or reveals a result: it looks only at the pool.  Returns a list of problems
    (empty means every draw from this pool is fully staffed, whatever the seed), each a dict with a
    ``reason`` code:

    * ``no_tasks`` -- the quotas select no unit at all;
    * ``no_slots`` -- the pool defines no inspector slot;
    * ``no_working_days`` -- there are tasks but no working day;
    * ``no_candidate`` -- on ``date``, slot ``slot`` (``dept``, ``role``) has no eligible inspector
      for unit ``unit_id`` (``None``: for whichever unit is drawn) even ignoring load caps;
    * ``may_be_blocked`` -- the slot has candidates, but the earlier slots of the same task (listed in
      ``blocked_by``) could take all of them (``candidates``), e.g. the only can-lead inspector drawn
      into an assist slot that comes before the lead slot.

    The check is exact for the greedy slot-by-slot fill: load caps only change preferences, never the
    candidate set, so if no problem is reported no slot of any task can be unfillable.  Only dates that
    some task can receive (the first ``min(tasks, days)`` working days) and units of strata with a
    positive quota are considered.
    """
    p = _prepare(pool)
    n_tasks = _task_count(p)
    if n_tasks == 0:
        return [{"reason": "no_tasks"}]
    problems: list[dict[str, Any]] = []
    if not p.slots:
        problems.append({"reason": "no_slots"})
    if not p.working_days:
        problems.append({"reason": "no_working_days"})
        return problems

    drawable = [stratum for stratum in p.strata if p.quotas.get(stratum, 0) > 0]
    drawable_set = set(drawable)
    drawable_units = sum(len(p.strata[stratum][0]) for stratum in drawable)
    conflicted_units = sorted(
        unit_id for unit_id, stratum in p.conflicted_unit_stratum.items() if stratum in drawable_set
    )
    any_plain_unit = drawable_units > len(conflicted_units)
    available = _Availability(p)
    by_index = p.inspectors

    def report(reason: str, k: int, blocking: list[int], members: set[int], day: str, unit: str | None) -> None:
        dept, role = p.slots[k]
        problem: dict[str, Any] = {
            "reason": reason,
            "date": day,
            "slot": k,
            "dept": dept,
            "role": role,
            "unit_id": unit,
            "candidates": sorted(by_index[i].id for i in members),
        }
        if reason == "may_be_blocked":
            problem["blocked_by"] = blocking
        problems.append(problem)

    for day in p.working_days[:n_tasks]:
        base = [{ins.index for ins in available(k, day)} for k in range(len(p.slots))]
        generic: set[tuple[str, int]] = set()
        if any_plain_unit:
            for reason, k, blocking, members in _slot_problems(base):
                generic.add((reason, k))
                report(reason, k, blocking, members, day, None)
        for unit_id in conflicted_units:
            conflicts = p.conflicted[unit_id]
            sets = [members - conflicts if conflicts & members else members for members in base]
            for reason, k, blocking, members in _slot_problems(sets):
                if (reason, k) not in generic:
                    report(reason, k, blocking, members, day, unit_id)
    return problems


# ---------------------------------------------------------------------------------------------------
# Replacement (递补抽取)
# ---------------------------------------------------------------------------------------------------


def _task_fields(task: Mapping[str, Any]) -> tuple[str, str]:
    if not isinstance(task, Mapping):
        raise ValueError("the task must be a result entry with unit_id and planned_date")
    unit_id = task.get("unit_id")
    day = task.get("planned_date")
    if not _is_id(unit_id):
        raise ValueError(f"invalid task unit_id {unit_id!r}")
    if not isinstance(day, str) or not day:
        raise ValueError("the task has no planned_date")
    return str(unit_id), day


def _check_slot(p: _Pool, slot: Any) -> int:
    if type(slot) is not int or not 0 <= slot < len(p.slots):
        raise ValueError(f"slot must be an integer 0..{len(p.slots) - 1}, got {slot!r}")
    return slot


def _eligible_for_replacement(
    p: _Pool,
    unit_id: str,
    day: str,
    slot: int,
    ever: set[str],
    unavailable_now: Mapping[str, Iterable[str]] | None,
) -> list[_Inspector]:
    dept, role = p.slots[slot]
    conflicts = p.conflicted.get(unit_id, set())
    eligible = []
    for ins in p.dept_members.get(dept, ()):
        if role == LEAD_ROLE and not ins.can_lead:
            continue
        if ins.index in conflicts or ins.id in ever:
            continue
        if unavailable_now is None:
            busy: Iterable[str] = ins.unavailable
        else:
            busy = unavailable_now.get(ins.id, ())
        if day in busy:
            continue
        eligible.append(ins)
    return eligible


def replacement_candidates(
    pool: Mapping[str, Any],
    task: Mapping[str, Any],
    slot: int,
    ever_assigned: Iterable[str],
    unavailable_now: Mapping[str, Iterable[str]] | None = None,
) -> list[str]:
    """Return the ids (sorted) who may replace the inspector of ``slot`` in ``task``.

    Eligible: the slot's dept, not conflicted with the unit, ``can_lead`` if the role is lead, never
    assigned to this task (``ever_assigned``: everyone in the original draw of the task, all slots,
    plus everyone who came in by an earlier replacement) and available on the planned date.
    Availability is ``unavailable_now`` -- inspector id -> unavailable dates, as recorded at the moment
    of replacement, replacing (not adding to) the frozen pool's lists; inspectors absent from it are
    available -- or, when it is ``None``, the pool's own ``unavailable`` lists.  No load caps.
    """
    p = _prepare(pool)
    unit_id, day = _task_fields(task)
    ever = set(ever_assigned)
    members = _eligible_for_replacement(p, unit_id, day, _check_slot(p, slot), ever, unavailable_now)
    return sorted(m.id for m in members)


def _candidate_problems(p: _Pool, unit_id: str, slot: int, ever: set[str], candidates: Any) -> list[str]:
    if not isinstance(candidates, list):
        return ["candidates must be a list of inspector ids"]
    problems = []
    seen: set[Any] = set()
    dept, role = p.slots[slot]
    conflicts = p.conflicted.get(unit_id, set())
    for cid in candidates:
        if not isinstance(cid, str) or cid in seen:
            problems.append(f"candidate {cid!r} is listed twice or is not an id")
            continue
        seen.add(cid)
        ins = p.by_id.get(cid)
        if ins is None:
            problems.append(f"candidate {cid} is not an inspector of the pool")
        elif ins.dept != dept:
            problems.append(f"candidate {cid} is from dept {ins.dept}, the slot needs {dept}")
        elif ins.index in conflicts:
            problems.append(f"candidate {cid} has a conflict of interest with unit {unit_id}")
        elif role == LEAD_ROLE and not ins.can_lead:
            problems.append(f"candidate {cid} cannot lead but slot {slot} is a lead slot")
        elif cid in ever:
            problems.append(f"candidate {cid} was already assigned to this task")
    return problems


def check_replacement_candidates(
    pool: Mapping[str, Any],
    task: Mapping[str, Any],
    slot: int,
    ever_assigned: Iterable[str],
    candidates: Any,
) -> list[str]:
    """Return what is wrong with a recorded candidate list (empty list: nothing).

    Each candidate must be a pool inspector of the slot's dept, not conflicted with the unit,
    ``can_lead`` for a lead slot, never assigned to this task before, and listed once.  Whether a
    candidate was available on the day cannot be checked from the pool (availability at the moment of
    replacement is what the supervisor recorded) and is not.
    """
    p = _prepare(pool)
    unit_id, _ = _task_fields(task)
    return _candidate_problems(p, unit_id, _check_slot(p, slot), set(ever_assigned), candidates)


def ever_assigned_to(task: Mapping[str, Any], replacements: Iterable[Mapping[str, Any]]) -> set[str]:
    """Return everyone ever assigned to ``task``: its original assignees and every replacement ``in``."""
    unit_id = task["unit_id"]
    ever = {a["inspector_id"] for a in task["assignments"] if a["inspector_id"] is not None}
    ever.update(r["in"] for r in replacements if r["unit_id"] == unit_id and r.get("in") is not None)
    return ever


def _replacement_order(
    seed_state: Any, unit_id: str, slot: int, round_: int, members: Sequence[_Inspector]
) -> list[str]:
    base = seed_state.copy()
    base.update(f"repl:{unit_id}:{slot}:{round_}:".encode("ascii"))
    names = [m.id for m in members]
    ranked = _smallest(base, names, [m.id_bytes for m in members], [m.weight for m in members], len(members))
    return [name for _, name, _ in ranked]


def _eligible_v2(p: _Pool, unit_id: str, day: str, slot: int, ever: set[str]) -> list[_Inspector]:
    """The eligible of a /2 递补, in id order: the slot's group minus conflicted, ever on the task, away."""
    dept, role = p.slots[slot]
    conflicts = p.conflicted.get(unit_id, set())
    group = _Group([m for m in p.dept_members.get(dept, ()) if role != LEAD_ROLE or m.can_lead])
    return [m for m in group.members if m.index not in conflicts and m.id not in ever and day not in m.unavailable]


def _pick_v2(p: _Pool, rseed: str, unit_id: str, slot: int, round_: int, candidates: Iterable[str]) -> str | None:
    """The /2 递补 pick among ``candidates`` (ids): 64 weighted tries over ``Q``, then the key fallback."""
    chosen = set(candidates)
    if not chosen:
        return None
    dept, role = p.slots[slot]
    group = _Group([m for m in p.dept_members.get(dept, ()) if role != LEAD_ROLE or m.can_lead])
    seed_state = _seed_state(rseed)
    base = seed_state.copy()
    base.update(f"repl:{unit_id}:{slot}:{round_}#".encode("ascii"))
    if group.total:
        for j in range(TRIES):
            m = group.sample(base, j)
            if m.id in chosen:
                return m.id
    winner = _key_fallback(seed_state, f"repl:{unit_id}:{slot}:{round_}:", [p.by_id[c] for c in sorted(chosen)])
    return None if winner is None else winner.id


def _excluded_now_map(excluded_now: Any) -> dict[str, str]:
    if excluded_now is None:
        return {}
    if not isinstance(excluded_now, Mapping):
        raise ValueError("excluded_now must map inspector ids to reason codes")
    for iid, reason in excluded_now.items():
        if reason not in EXCLUSION_REASONS:
            raise ValueError(
                f"exclusion reason of {iid!r} must be one of {', '.join(EXCLUSION_REASONS)}, got {reason!r}"
            )
    return dict(excluded_now)


def replace(
    pool: Mapping[str, Any],
    seed: str,
    task: Mapping[str, Any],
    slot: int,
    round_: int,
    ever_assigned: Iterable[str],
    excluded_now: Mapping[str, str] | None = None,
    spec: str = SPEC,
    *,
    unavailable_now: Mapping[str, Iterable[str]] | None = None,
    candidates: Iterable[str] | None = None,
) -> tuple[str | None, list[str], list[dict[str, str]]]:
    """Draw the 递补 for ``slot`` of ``task`` (spec section 3); returns ``(winner, candidates, excluded_now)``.

    ``round_`` counts from 1 per task and slot; ``ever_assigned`` is everyone ever on this task (see
    ``ever_assigned_to``); ``excluded_now`` maps the inspector ids the system excludes at this moment to
    a reason code of ``EXCLUSION_REASONS``.  ``winner`` is ``None`` when there is no candidate (then the
    slot cannot be refilled and nothing is to be logged).  No load caps.

    ``suijian-draw/2`` (pass ``seed=rseed``, see ``replacement_seed``): the eligible are the slot's group
    (the dept; those who can lead for a lead slot) not conflicted with the unit, never on this task and not
    unavailable on the planned date in the pool.  ``excluded_now`` (returned as the bundle wants it:
    ``[{"id", "reason"}]`` sorted by id) lists the eligible ones the mapping excludes; ``candidates`` (sorted
    by id) are the eligible minus those.  The pick: 64 weighted tries with
    ``uniform("repl:" + unit_id + ":" + k + ":" + r + "#" + j, W)``, then the lowest ``key("repl:" ...)``.

    ``suijian-draw/1`` (pass the draw's seed): the candidates also honour ``unavailable_now`` (inspector
    id -> dates, replacing the pool's lists) and leave out everyone in ``excluded_now``; they are returned
    ranked by ``key("repl:" + unit_id + ":" + k + ":" + r + ":" + id, weight)``, winner first, as /1
    bundles list them.

    ``candidates`` (either spec): pick among exactly these ids instead (the verifier's path); each must
    be a pool inspector, else ``ValueError``.
    """
    _check_spec(spec)
    p = _prepare(pool)
    unit_id, day = _task_fields(task)
    slot = _check_slot(p, slot)
    if type(round_) is not int or round_ < 1:
        raise ValueError(f"round must be an integer >= 1, got {round_!r}")
    excluded = _excluded_now_map(excluded_now)
    ever = set(ever_assigned)
    if candidates is not None:
        given = list(dict.fromkeys(candidates))
        for cid in given:
            if cid not in p.by_id:
                raise ValueError(f"candidate {cid!r} is not an inspector of the pool")
    if spec == SPEC:
        if unavailable_now is not None:
            raise ValueError("suijian-draw/2 takes who is away now as excluded_now, not unavailable_now")
        eligible = _eligible_v2(p, unit_id, day, slot, ever)
        listed = [{"id": m.id, "reason": excluded[m.id]} for m in eligible if m.id in excluded]
        chosen = [m.id for m in eligible if m.id not in excluded] if candidates is None else sorted(given)
        return _pick_v2(p, seed, unit_id, slot, round_, chosen), chosen, listed
    if candidates is None:
        members = _eligible_for_replacement(p, unit_id, day, slot, ever, unavailable_now)
        listed = [
            {"id": m.id, "reason": excluded[m.id]} for m in sorted(members, key=lambda m: m.id) if m.id in excluded
        ]
        members = [m for m in members if m.id not in excluded]
    else:
        listed = []
        members = [p.by_id[cid] for cid in given]
    ranked = _replacement_order(_seed_state(seed), unit_id, slot, round_, members)
    return (ranked[0] if ranked else None), ranked, listed


# ---------------------------------------------------------------------------------------------------
# The ceremony log (suijian-draw/2)
# ---------------------------------------------------------------------------------------------------

_EVENT_DATA = {
    "commit": ("commitment", "item", "org", "period", "pool_hash", "replacement_commitment"),
    "witness": ("value",),
    "draw": ("result_hash",),
    "replace": ("candidates", "excluded_now", "in", "out", "reason", "round", "slot", "unit_id"),
    "abandon": ("reason",),
    "publish": ("server_secret",),
    "close": ("replacement_secret",),
}


def head0(draw_id: str) -> str:
    """``head_0 = sha256(canonical({"spec": "suijian-draw/2", "draw": draw_id}))``."""
    if not isinstance(draw_id, str) or not draw_id:
        raise ValueError("the draw id must be a non-empty string")
    return hashlib.sha256(canonical({"spec": SPEC, "draw": draw_id})).hexdigest()


def next_head(prev: str, event: Mapping[str, Any]) -> str:
    """``head_n = sha256(canonical({"prev": head_(n-1), "event": event_n}))``."""
    return hashlib.sha256(canonical({"prev": prev, "event": event})).hexdigest()


def _at(at: Any) -> str:
    if isinstance(at, datetime.datetime):
        if at.tzinfo is None:
            raise ValueError("an event time must be timezone-aware")
        utc = datetime.timezone.utc  # noqa: UP017 (datetime.UTC needs 3.11)
        return at.astimezone(utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if not isinstance(at, str) or not _AT.match(at):
        raise ValueError(f"an event time must look like 2026-12-30T02:00:00Z, got {at!r}")
    return at


def make_event(n: int, type_: str, at_iso: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    """Return the log event ``{"n", "type", "at", "data"}`` exactly as the spec defines it.

    ``at_iso`` is ``"YYYY-MM-DDTHH:MM:SSZ"`` (UTC, whole seconds) or an aware ``datetime`` (converted
    to UTC, fractions of a second dropped).  ``data`` must have exactly the keys of its type (spec
    section 1); it is copied through JSON so the event is plain data.
    """
    if type(n) is not int or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    if type_ not in _EVENT_DATA:
        raise ValueError(f"unknown event type {type_!r}")
    if not isinstance(data, Mapping) or sorted(data) != list(_EVENT_DATA[type_]):
        raise ValueError(f"a {type_} event's data must have exactly the keys {', '.join(_EVENT_DATA[type_])}")
    return {"n": n, "type": type_, "at": _at(at_iso), "data": json.loads(canonical(dict(data)))}


def log_heads(draw_id: str, events: Sequence[Mapping[str, Any]]) -> list[str]:
    """Return ``[head_1, ..., head_n]`` of the log ``events`` of draw ``draw_id``."""
    heads = []
    head = head0(draw_id)
    for event in events:
        head = next_head(head, event)
        heads.append(head)
    return heads


def result_hash(result: Any) -> str:
    """``sha256(canonical(result))``, the draw event's data (``result`` may be ``[]``)."""
    return hashlib.sha256(canonical(result)).hexdigest()


# ---------------------------------------------------------------------------------------------------
# Verification
# ---------------------------------------------------------------------------------------------------


def _task_difference(expected: dict[str, Any], got: Any) -> str | None:
    """Describe the first difference between a recomputed task and the bundle's, or return None."""
    if not isinstance(got, dict):
        return f"expected unit {expected['unit_id']} got {got!r}"
    unit_id = expected["unit_id"]
    if got.get("unit_id") != unit_id:
        return f"expected unit {unit_id} got {got.get('unit_id')}"
    if got.get("planned_date") != expected["planned_date"]:
        return f"unit {unit_id}: expected planned date {expected['planned_date']} got {got.get('planned_date')}"
    assignments = got.get("assignments")
    if not isinstance(assignments, list):
        return f"unit {unit_id}: assignments missing"
    for k, want in enumerate(expected["assignments"]):
        have = assignments[k] if k < len(assignments) else None
        if not isinstance(have, dict) or have.get("slot") != k:
            return f"unit {unit_id}: slot {k} missing"
        if have.get("inspector_id") != want["inspector_id"]:
            return f"unit {unit_id} slot {k}: expected inspector {want['inspector_id']} got {have.get('inspector_id')}"
    if len(assignments) != len(expected["assignments"]):
        return f"unit {unit_id}: expected {len(expected['assignments'])} assignments got {len(assignments)}"
    if got != expected:
        return f"unit {unit_id}: entry has fields other than unit_id, planned_date and assignments"
    return None


class _Differences(list):  # not list[str]: that needs Python 3.9 at run time
    """A list of messages that refuses to grow past ``_MAX_MESSAGES``."""

    def add(self, message: str) -> None:
        if len(self) < _MAX_MESSAGES:
            self.append(message)
        elif len(self) == _MAX_MESSAGES:
            self.append("(further differences not listed)")

    @property
    def full(self) -> bool:
        return len(self) > _MAX_MESSAGES


def _verify_replacements(
    p: _Pool, seed: str, expected: list[dict[str, Any]], replacements: Any, out: _Differences
) -> None:
    if replacements is None:
        replacements = []
    if not isinstance(replacements, list):
        out.add("replacements must be a list")
        return
    tasks = {task["unit_id"]: task for task in expected}
    current = {task["unit_id"]: [a["inspector_id"] for a in task["assignments"]] for task in expected}
    ever = {unit_id: {i for i in ids if i is not None} for unit_id, ids in current.items()}
    rounds: dict[tuple[str, int], int] = {}
    seed_state = _seed_state(seed)
    for n, entry in enumerate(replacements, 1):
        if out.full:
            return
        if not isinstance(entry, dict):
            out.add(f"replacement {n} is not an object")
            continue
        unit_id, slot = entry.get("unit_id"), entry.get("slot")
        if not isinstance(unit_id, str) or unit_id not in tasks:
            out.add(f"replacement {n}: unit {unit_id!r} is not a task of this draw")
            continue
        if type(slot) is not int or not 0 <= slot < len(p.slots):
            out.add(f"replacement {n} (unit {unit_id}): slot {slot!r} does not exist")
            continue
        round_ = rounds.get((unit_id, slot), 0) + 1
        where = f"replacement {n} (unit {unit_id}, slot {slot}, round {round_})"
        if entry.get("round") != round_:
            out.add(f"{where}: recorded round is {entry.get('round')!r}, expected {round_}")
        if entry.get("out") != current[unit_id][slot]:
            out.add(f"{where}: expected out {current[unit_id][slot]} got {entry.get('out')}")
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            out.add(f"{where}: no reason recorded")
        recorded = entry.get("candidates")
        for problem in _candidate_problems(p, unit_id, slot, ever[unit_id], recorded):
            out.add(f"{where}: {problem}")
        if isinstance(recorded, list):
            known = [p.by_id[c] for c in dict.fromkeys(c for c in recorded if isinstance(c, str)) if c in p.by_id]
            ranked = _replacement_order(seed_state, unit_id, slot, round_, known)
            winner = ranked[0] if ranked else None
            if entry.get("in") != winner:
                out.add(f"{where}: expected in {winner} got {entry.get('in')}")
        # Apply the replacement as recorded, so that later rounds are checked against the bundle's story.
        came_in = entry.get("in")
        current[unit_id][slot] = came_in
        if isinstance(came_in, str):
            ever[unit_id].add(came_in)
        rounds[(unit_id, slot)] = round_


def _verify_v1(bundle: Any) -> list[str]:
    """Verify a published /1 draw bundle; return ``[]`` for PASS, else the differences, first one first.

    In order: the spec string; that the secret is revealed (``server_secret`` null means the draw is
    not published: "secret not yet revealed (draw not published)"); the pool is well formed;
    ``pool_hash == sha256(canonical(pool))``; ``commitment == sha256(bytes.fromhex(server_secret))``;
    the witness list; ``seed`` recomputed from the recomputed pool hash, the secret and the witnesses;
    the full ``result`` recomputed from pool and seed (the original draw, before replacements); every
    entry of ``replacements`` in order (round numbering, who went out, the recorded reason, the
    recorded candidates' eligibility and the winner among them; each replacement changes the slot's
    holder for the next one); and that no ``excluded`` unit is in the pool.

    What it cannot check: that the commitment and pool hash are the ones shown at the ceremony
    (compare them with the published draw record), and that a recorded replacement candidate list
    left nobody out who was in fact available.
    """
    out = _Differences()
    if not isinstance(bundle, dict):
        return ["the bundle is not a JSON object"]
    secret_hex = bundle.get("server_secret")
    if secret_hex is None:
        out.add("secret not yet revealed (draw not published)")
    pool: Any = bundle.get("pool")  # checked by _prepare
    try:
        p = _prepare(pool)
    except ValueError as exc:
        out.add(f"the pool is invalid: {exc}")
        return list(out)
    actual_pool_hash = pool_hash(pool)
    if bundle.get("pool_hash") != actual_pool_hash:
        out.add("pool_hash does not match sha256(canonical(pool))")
    if secret_hex is None:
        return list(out)
    if not _is_lower_hex(secret_hex, 64):
        out.add("server_secret is not 64 lowercase hex digits (32 bytes)")
        return list(out)
    if bundle.get("commitment") != commitment(bytes.fromhex(secret_hex)):
        out.add("commitment does not match sha256(server_secret)")
    witness: Any = bundle.get("witness")  # checked by compute_seed
    try:
        seed = compute_seed(actual_pool_hash, secret_hex, witness, SPEC_V1)
    except ValueError as exc:
        out.add(f"witness: {exc}")
        return list(out)
    if bundle.get("seed") != seed:
        out.add('seed does not match sha256(canonical({"spec", "pool_hash", "secret", "witness"}))')
    try:
        expected = _draw_v1(p, seed)["result"]
    except ValueError as exc:
        out.add(f"the draw cannot be recomputed: {exc}")
        return list(out)
    got = bundle.get("result")
    if not isinstance(got, list):
        out.add("result is missing or not a list")
    else:
        for i in range(min(len(expected), len(got))):
            difference = _task_difference(expected[i], got[i])
            if difference:
                out.add(f"result task {i + 1}: {difference}")
        if len(got) != len(expected):
            out.add(f"result has {len(got)} tasks, expected {len(expected)}")
    _verify_replacements(p, seed, expected, bundle.get("replacements"), out)
    excluded = bundle.get("excluded")
    if isinstance(excluded, list) and excluded:
        in_pool = set()
        for ids, _ in p.strata.values():
            in_pool.update(ids)
        for entry in excluded:
            if isinstance(entry, dict) and entry.get("unit_id") in in_pool:
                out.add(f"excluded unit {entry.get('unit_id')} is also in the pool")
    return list(out)


_REPLACEMENT_KEYS = ("at", "candidates", "excluded_now", "in", "out", "reason", "round", "seq", "slot", "unit_id")
_DRAW_KEYS = ("abandoned_reason", "closed_at", "committed_at", "drawn_at", "id", "item", "org", "period",
              "published_at", "status")  # fmt: skip
_BUNDLE_KEYS = ("commitment", "draw", "final", "log", "log_head", "pool", "pool_hash", "replacement_commitment",
                "replacement_secret", "replacements", "result", "rseed", "seed", "server_secret", "spec",
                "witness")  # fmt: skip


def _verify_replacements_v2(
    p: _Pool, rseed: str | None, expected: list[dict[str, Any]], replacements: Any, out: _Differences
) -> list[dict[str, Any]] | None:
    """Check the /2 replacements in order; return the expected ``final`` (``None`` if it cannot be built)."""
    if not isinstance(replacements, list):
        out.add("replacements must be a list")
        return None
    tasks = {task["unit_id"]: task for task in expected}
    current = {task["unit_id"]: [a["inspector_id"] for a in task["assignments"]] for task in expected}
    ever = {unit_id: {i for i in ids if i is not None} for unit_id, ids in current.items()}
    rounds: dict[tuple[str, int], int] = {}
    for n, entry in enumerate(replacements, 1):
        if out.full:
            return None
        if not isinstance(entry, dict) or sorted(entry) != list(_REPLACEMENT_KEYS):
            out.add(f"replacement {n} must be an object with exactly the keys {', '.join(_REPLACEMENT_KEYS)}")
            return None
        if entry["seq"] != n:
            out.add(f"replacement {n}: seq is {entry['seq']!r}, expected {n}")
        unit_id, slot = entry["unit_id"], entry["slot"]
        if not isinstance(unit_id, str) or unit_id not in tasks:
            out.add(f"replacement {n}: unit {unit_id!r} is not a task of this draw")
            return None
        if type(slot) is not int or not 0 <= slot < len(p.slots):
            out.add(f"replacement {n} (unit {unit_id}): slot {slot!r} does not exist")
            return None
        round_ = rounds.get((unit_id, slot), 0) + 1
        where = f"replacement {n} (unit {unit_id}, slot {slot}, round {round_})"
        if entry["round"] != round_:
            out.add(f"{where}: recorded round is {entry['round']!r}, expected {round_}")
        if entry["out"] != current[unit_id][slot]:
            out.add(f"{where}: expected out {current[unit_id][slot]} got {entry['out']}")
        reason = entry["reason"]
        if not isinstance(reason, str) or not reason.strip():
            out.add(f"{where}: no reason recorded")
        if not isinstance(entry["at"], str) or not _AT.match(entry["at"]):
            out.add(f"{where}: at is not a UTC time like 2026-12-30T02:00:00Z")
        recorded, excluded = entry["candidates"], entry["excluded_now"]
        ok = True
        if not isinstance(recorded, list) or not all(isinstance(c, str) for c in recorded):
            out.add(f"{where}: candidates must be a list of inspector ids")
            ok = False
        elif not _strictly_ascending(recorded):
            out.add(f"{where}: candidates are not sorted by id without repeats")
        if not isinstance(excluded, list) or not all(
            isinstance(x, dict) and sorted(x) == ["id", "reason"] and isinstance(x["id"], str) for x in excluded
        ):
            out.add(f"{where}: excluded_now must be a list of {{id, reason}} objects")
            ok = False
        else:
            if not _strictly_ascending([x["id"] for x in excluded]):
                out.add(f"{where}: excluded_now is not sorted by id without repeats")
            for x in excluded:
                if not isinstance(x["reason"], str) or not x["reason"].strip():
                    out.add(f"{where}: no reason recorded for excluding {x['id']}")
        if ok:
            eligible = [m.id for m in _eligible_v2(p, unit_id, tasks[unit_id]["planned_date"], slot, ever[unit_id])]
            listed = set(recorded)
            excluded_ids = {x["id"] for x in excluded}
            both = sorted(listed & excluded_ids)
            if both:
                out.add(f"{where}: {both[0]} is both a candidate and excluded")
            if listed | excluded_ids != set(eligible):
                outside = sorted((listed | excluded_ids) - set(eligible))
                missing = sorted(set(eligible) - listed - excluded_ids)
                if outside:
                    out.add(
                        f"{where}: {outside[0]} is listed but not eligible (dept, lead, conflict, on the task or away)"
                    )
                else:
                    out.add(f"{where}: eligible inspector {missing[0]} is neither a candidate nor excluded")
            if not recorded:
                out.add(f"{where}: no candidate, so nothing can have been drawn")
            elif entry["in"] not in listed:
                out.add(f"{where}: in {entry['in']} is not among the candidates")
            elif rseed is not None:
                winner = _pick_v2(p, rseed, unit_id, slot, round_, recorded)
                if entry["in"] != winner:
                    out.add(f"{where}: expected in {winner} got {entry['in']}")
        came_in = entry["in"]
        current[unit_id][slot] = came_in
        if isinstance(came_in, str):
            ever[unit_id].add(came_in)
        rounds[(unit_id, slot)] = round_
    return [
        {
            "unit_id": t["unit_id"],
            "assignments": [{"slot": k, "inspector_id": i} for k, i in enumerate(current[t["unit_id"]])],
        }
        for t in expected
    ]


def _verify_log(bundle: dict[str, Any], info: dict[str, Any], out: _Differences) -> None:
    """The log agrees with the bundle, its order rules hold, and ``log_head`` is its last head."""
    log = bundle["log"]
    meta = bundle["draw"]
    if not isinstance(log, list) or not log:
        out.add("log must be a non-empty list of events")
        return
    seen: dict[str, list[dict[str, Any]]] = {t: [] for t in EVENT_TYPES}
    last_at = ""
    for n, event in enumerate(log, 1):
        if not isinstance(event, dict) or sorted(event) != ["at", "data", "n", "type"]:
            out.add(f"log event {n} must be an object with exactly n, type, at and data")
            return
        kind, data, at = event["type"], event["data"], event["at"]
        where = f"log event {n} ({kind})"
        if event["n"] != n:
            out.add(f"log event {n}: n is {event['n']!r}, expected {n}")
        if kind not in _EVENT_DATA:
            out.add(f"log event {n}: unknown type {kind!r}")
            return
        if not isinstance(data, dict) or sorted(data) != list(_EVENT_DATA[kind]):
            out.add(f"{where}: data must have exactly the keys {', '.join(_EVENT_DATA[kind])}")
            return
        if not isinstance(at, str) or not _AT.match(at):
            out.add(f"{where}: at is not a UTC time like 2026-12-30T02:00:00Z")
        elif at < last_at:
            out.add(f"{where}: at {at} is before the previous event's {last_at}")
        else:
            last_at = at
        if (n == 1) != (kind == "commit"):
            out.add(f"{where}: the commit event must come first, and only once")
        if kind == "witness" and (seen["draw"] or seen["abandon"]):
            out.add(f"{where}: a witness value after the draw or the abandonment")
        if kind == "draw" and (seen["draw"] or not seen["witness"] or seen["abandon"]):
            out.add(f"{where}: the draw comes once, after at least one witness value and before any abandonment")
        if kind == "replace" and (not seen["draw"] or seen["abandon"] or seen["close"]):
            out.add(f"{where}: a replacement before the draw, after an abandonment or after closing")
        if kind == "abandon" and (seen["abandon"] or seen["publish"]):
            out.add(f"{where}: abandoning comes at most once, before publication")
        if kind == "publish" and (seen["publish"] or not (seen["draw"] or seen["abandon"])):
            out.add(f"{where}: publication comes once, after the draw or an abandonment")
        if kind == "close" and (seen["close"] or not seen["publish"] or n != len(log)):
            out.add(f"{where}: closing comes at most once, after publication, last")
        if seen["abandon"] and kind not in ("publish", "close"):
            out.add(f"{where}: after an abandonment only publish and close may follow")
        seen[kind].append(event)
    first = log[0]
    if first["type"] == "commit":
        want = {
            "org": meta.get("org"),
            "item": meta.get("item"),
            "period": meta.get("period"),
            "pool_hash": bundle["pool_hash"],
            "commitment": bundle["commitment"],
            "replacement_commitment": bundle["replacement_commitment"],
        }
        for field in sorted(want):
            if first["data"].get(field) != want[field]:
                out.add(f"log: the commit event's {field} differs from the bundle's")
    if [e["data"]["value"] for e in seen["witness"]] != bundle["witness"]:
        out.add("log: the witness events differ from the bundle's witness values")
    if seen["draw"] and seen["draw"][0]["data"]["result_hash"] != result_hash(bundle["result"]):
        out.add("log: the draw event's result_hash does not match sha256(canonical(result))")
    replacements = bundle["replacements"] if isinstance(bundle["replacements"], list) else []
    if len(seen["replace"]) != len(replacements):
        out.add(f"log: {len(seen['replace'])} replace events but {len(replacements)} replacements")
    for n, (event, entry) in enumerate(zip(seen["replace"], replacements), 1):  # noqa: B905 (3.8)
        if not isinstance(entry, dict):
            continue
        stripped = {k: v for k, v in entry.items() if k not in ("seq", "at")}
        if event["data"] != stripped:
            out.add(f"log: replace event {event['n']} differs from replacement {n}")
        if entry.get("at") != event["at"]:
            out.add(f"log: replacement {n}'s at differs from its event's")
    reason = meta.get("abandoned_reason")
    if reason is not None and (not isinstance(reason, str) or not reason.strip()):
        out.add("draw.abandoned_reason is set but empty")
    if bool(seen["abandon"]) != (reason is not None):
        out.add("log: an abandon event exists exactly when draw.abandoned_reason is set")
    elif seen["abandon"] and seen["abandon"][0]["data"]["reason"] != reason:
        out.add("log: the abandon event's reason differs from draw.abandoned_reason")
    if len(seen["publish"]) != 1:
        out.add("log: a published bundle has exactly one publish event")
    elif seen["publish"][0]["data"]["server_secret"] != bundle["server_secret"]:
        out.add("log: the publish event's server_secret differs from the bundle's")
    closed = meta.get("status") == "closed"
    if bool(seen["close"]) != closed:
        out.add("log: a close event exists exactly when the status is closed")
    elif closed and seen["close"][0]["data"]["replacement_secret"] != bundle["replacement_secret"]:
        out.add("log: the close event's replacement_secret differs from the bundle's")
    for field, kind in (
        ("committed_at", "commit"),
        ("drawn_at", "draw"),
        ("published_at", "publish"),
        ("closed_at", "close"),
    ):
        want_at = seen[kind][0]["at"] if seen[kind] else None
        if meta.get(field) != want_at:
            out.add(f"draw.{field} is {meta.get(field)!r}, its event says {want_at!r}")
    info["has_draw"] = bool(seen["draw"])
    heads = log_heads(meta["id"], log)
    if bundle["log_head"] != heads[-1]:
        out.add("log_head is not the last head of the log")


def _verify_v2(bundle: dict[str, Any]) -> list[str]:
    out = _Differences()
    if sorted(bundle) != list(_BUNDLE_KEYS):
        missing = sorted(set(_BUNDLE_KEYS) - set(bundle))
        extra = sorted(set(bundle) - set(_BUNDLE_KEYS))
        return [f"the bundle lacks {missing[0]!r}" if missing else f"the bundle has an unknown field {extra[0]!r}"]
    meta = bundle["draw"]
    if not isinstance(meta, dict) or sorted(meta) != list(_DRAW_KEYS):
        return [f"draw must be an object with exactly the keys {', '.join(_DRAW_KEYS)}"]
    if not isinstance(meta["id"], str) or not meta["id"]:
        return ["draw.id is missing"]
    status = meta["status"]
    if status not in ("published", "closed"):
        return [f"draw not published (status {status!r}): a bundle verifies only after publication"]
    secret_hex = bundle["server_secret"]
    if secret_hex is None:
        return ["secret not yet revealed (draw not published)"]
    pool = bundle["pool"]
    problem = canonical_pool_problem(pool)
    if problem:
        return [f"the pool is not canonical: {problem}"]
    p = _prepare(pool)
    actual_pool_hash = pool_hash(pool)
    if bundle["pool_hash"] != actual_pool_hash:
        out.add("pool_hash does not match sha256(canonical(pool))")
    if not _is_lower_hex(secret_hex, 64):
        out.add("server_secret is not 64 lowercase hex digits (32 bytes)")
        return list(out)
    if bundle["commitment"] != commitment(bytes.fromhex(secret_hex)):
        out.add("commitment does not match sha256(server_secret)")
    if not _is_lower_hex(bundle["replacement_commitment"], 64):
        out.add("replacement_commitment is not 64 lowercase hex digits")
    replacement_hex = bundle["replacement_secret"]
    if status == "closed":
        if not _is_lower_hex(replacement_hex, 64):
            out.add("replacement_secret is not revealed as 64 lowercase hex digits (the draw is closed)")
            return list(out)
        if bundle["replacement_commitment"] != commitment(bytes.fromhex(replacement_hex)):
            out.add("replacement_commitment does not match sha256(replacement_secret)")
    elif replacement_hex is not None or bundle["rseed"] is not None:
        out.add("replacement_secret and rseed must be null until the draw is closed")
    witness = bundle["witness"]
    seed = None
    if isinstance(witness, list) and witness:
        try:
            seed = compute_seed(actual_pool_hash, secret_hex, witness, SPEC)
        except ValueError as exc:
            out.add(f"witness: {exc}")
            return list(out)
    elif witness != []:
        out.add("witness must be a list of values")
        return list(out)
    info: dict[str, Any] = {}
    _verify_log(bundle, info, out)
    if out.full:
        return list(out)
    has_draw = info.get("has_draw", bool(bundle["result"]))
    if (has_draw or bundle["seed"] is not None) and (seed is None or bundle["seed"] != seed):
        out.add('seed does not match sha256(canonical({"spec", "pool_hash", "secret", "witness"}))')
        return list(out)
    rseed = None
    if status == "closed" and bundle["seed"] is not None:
        rseed = replacement_seed(seed, replacement_hex)  # type: ignore[arg-type]
        if bundle["rseed"] != rseed:
            out.add('rseed does not match sha256(canonical({"spec", "seed", "replacement_secret"}))')
    elif status == "closed" and bundle["rseed"] is not None:
        out.add("rseed must be null when there is no seed")
    got = bundle["result"]
    if not has_draw:
        expected: list[dict[str, Any]] = []
        if got != []:
            out.add("result must be [] when no draw took place")
        if bundle["replacements"] != []:
            out.add("replacements must be [] when no draw took place")
    else:
        try:
            expected = _draw_v2(p, seed)["result"]  # type: ignore[arg-type]
        except ValueError as exc:
            out.add(f"the draw cannot be recomputed: {exc}")
            return list(out)
        if not isinstance(got, list):
            out.add("result is missing or not a list")
        else:
            for i in range(min(len(expected), len(got))):
                difference = _task_difference(expected[i], got[i])
                if difference:
                    out.add(f"result task {i + 1}: {difference}")
            if len(got) != len(expected):
                out.add(f"result has {len(got)} tasks, expected {len(expected)}")
    final = _verify_replacements_v2(p, rseed, expected, bundle["replacements"], out)
    if final is not None and bundle["final"] != final:
        have = bundle["final"]
        if not isinstance(have, list) or len(have) != len(final):
            out.add(f"final must list the {len(final)} tasks with the replacements applied")
        else:
            i = next(i for i in range(len(final)) if have[i] != final[i])
            out.add(f"final task {i + 1} (unit {final[i]['unit_id']}) is not the result with the replacements applied")
    return list(out)


def verify_bundle(bundle: Any) -> list[str]:
    """Verify a published draw bundle; return ``[]`` for PASS, else the differences, first one first.

    ``suijian-draw/2``: the bundle's fields; the status (published or closed); the pool's canonical form;
    ``pool_hash``; ``commitment`` against ``server_secret``; when closed, ``replacement_commitment``
    against ``replacement_secret``; the witness values; the log (event form and order, timestamps, the
    commit event against the bundle's org, item, period, pool hash and commitments, witness, draw
    (``result_hash``), replace, abandon, publish and close events against the bundle, ``log_head``); the
    seed; the result recomputed; every replacement in order (seq, round, out, reason, candidates and
    ``excluded_now`` sorted and together exactly the eligible, ``in`` a candidate, and -- closed draws --
    ``rseed`` and every ``in`` recomputed); ``final``.

    ``suijian-draw/1``: exactly the checks it always had (see ``_verify_v1``).

    What it cannot check: that the heads and commitments are the ones the public register showed (compare
    them: ``summary``), and whether an inspector listed in ``excluded_now`` really was away.
    """
    if not isinstance(bundle, dict):
        return ["the bundle is not a JSON object"]
    spec = bundle.get("spec")
    if spec == SPEC_V1:
        return _verify_v1(bundle)
    if spec == SPEC:
        return _verify_v2(bundle)
    return [f"spec is {spec!r}, this verifier checks {' and '.join(repr(s) for s in SPECS)}"]


def summary(bundle: Mapping[str, Any]) -> list[str]:
    """The lines ``main`` prints after PASS: what to compare with the public register."""
    draw_meta = bundle.get("draw")
    meta: Mapping[str, Any] = draw_meta if isinstance(draw_meta, Mapping) else {}
    lines = [
        f"draw: {meta.get('id')}",
        f"spec: {bundle.get('spec')}",
        f"status: {meta.get('status')}"
        + (f" (abandoned: {meta['abandoned_reason']})" if meta.get("abandoned_reason") else ""),
        f"pool_hash: {bundle.get('pool_hash')}",
        f"commitment: {bundle.get('commitment')}",
    ]
    if bundle.get("spec") == SPEC_V1:
        lines.append(f"seed: {bundle.get('seed')}")
        lines.append(
            "Compare pool_hash and commitment with the draw's public record: "
            "a re-sealed forgery passes every other check."
        )
        return lines
    lines.append(f"replacement_commitment: {bundle.get('replacement_commitment')}")
    lines.append(f"seed: {bundle.get('seed')}")
    lines.append(f"log head: {bundle.get('log_head')}")
    replacements = bundle.get("replacements") or []
    if meta.get("status") == "published":
        lines.append(f"递补 pending closing: {len(replacements)}")
    lines.append(
        "Compare the log head and both commitments with the public register: "
        "a re-sealed forgery passes every other check."
    )
    return lines


# ---------------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------------

_USAGE = "usage: python verify.py BUNDLE.json   (or: python -m webapp.draw.verify BUNDLE.json)"


def main(argv: Sequence[str] | None = None) -> int:
    """Verify the bundle named on the command line: print PASS (0), FAIL: ... (1) or an error (2)."""
    args = list(sys.argv[1:] if argv is None else argv)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):  # keep ids and messages printable anywhere
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    if args and args[0] in ("-h", "--help"):
        print(_USAGE)
        print(
            "Checks a SuiJian draw bundle (suijian-draw/2 or suijian-draw/1) and prints PASS with the values to "
            "compare with the public register, or FAIL: <first difference>."
        )
        return 0
    if len(args) != 1:
        print(_USAGE, file=sys.stderr)
        return 2
    path = args[0]
    try:
        with open(path, encoding="utf-8") as handle:
            bundle = json.load(handle)
    except OSError as exc:
        print(f"ERROR: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except (UnicodeDecodeError, ValueError) as exc:
        print(f"ERROR: {path} is not valid JSON: {exc}", file=sys.stderr)
        return 2
    if not isinstance(bundle, dict):
        print(f"ERROR: {path} is not a draw bundle (expected a JSON object)", file=sys.stderr)
        return 2
    differences = verify_bundle(bundle)
    if differences:
        print(f"FAIL: {differences[0]}")
        return 1
    print("PASS")
    for line in summary(bundle):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
