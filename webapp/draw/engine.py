"""SuiJian draw engine and standalone verifier, spec ``suijian-draw/1``.

This one file is both the engine the web application imports to run draws and the standalone verifier
anyone downloads from the public site as ``verify.py``: the code that drew a plan is exactly the code that
verifies it. It must therefore stay importable alone, with the standard library only (a test checks).

Verify a published bundle with nothing but Python 3 (3.8 or later) and this file::

    python verify.py bundle.json              # the file alone, in any directory
    python -m webapp.draw.verify bundle.json  # inside the SuiJian repository (runs this file's main)

Either prints ``PASS`` (exit status 0) or ``FAIL: <first difference>`` (exit status 1); an unreadable
or invalid file prints an error (exit status 2).

The module uses the Python standard library only (no Flask, no database, nothing else from the
application).  Pool objects are plain dicts exactly as they appear in the bundle (spec section 5)::

    {"units": [{"id", "stratum", "weight"}],
     "inspectors": [{"id", "dept", "can_lead", "weight", "conflicts", "unavailable"}],
     "quotas": {stratum: count}, "slots": [{"dept", "role"}], "working_days": ["YYYY-MM-DD", ...]}

Public functions: ``canonical``, ``pool_hash``, ``new_secret``, ``commitment``, ``normalise_witness``,
``compute_seed``, ``ticket``, ``key``, ``validate_pool``, ``draw``, ``feasibility``,
``replacement_candidates``, ``check_replacement_candidates``, ``ever_assigned_to``, ``replace``,
``verify_bundle`` and ``main``.
"""

from __future__ import annotations

import contextlib
import hashlib
import heapq
import json
import secrets
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeGuard

SPEC = "suijian-draw/1"
"""The spec string that every seed and bundle carries."""

LEAD_ROLE = "lead"
"""The slot role that requires ``can_lead``; every other role accepts any inspector of the dept."""

MIN_WEIGHT = 1
MAX_WEIGHT = 1000

_TICKET_DIGITS = 78  # 2**256 has 78 decimal digits: every ticket is an integer below 10**78
_MAX_MESSAGES = 50  # verify_bundle stops collecting differences after this many
_MAX_ID_LENGTH = 200
_MAX_LEVEL = 8  # _lowest checks the low j bits of a hash on its last byte first
_HEX = frozenset("0123456789abcdef")

__all__ = [
    "LEAD_ROLE",
    "SPEC",
    "canonical",
    "check_replacement_candidates",
    "commitment",
    "compute_seed",
    "draw",
    "ever_assigned_to",
    "feasibility",
    "key",
    "main",
    "new_secret",
    "normalise_witness",
    "pool_hash",
    "replace",
    "replacement_candidates",
    "ticket",
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


def compute_seed(pool_hash: str, secret_hex: str, witness_list: Sequence[str]) -> str:
    """Return the draw seed (64 lowercase hex digits).

    ``seed = sha256(canonical({"spec": SPEC, "pool_hash": pool_hash, "secret": secret_hex,
    "witness": [v1, v2, ...]})).hexdigest()``.

    The witness values are hashed exactly as given, in entry order.  They must already be normalised
    (``normalise_witness``) and non-empty, and there must be at least one: anything else raises
    ``ValueError`` rather than silently hashing something other than what the bundle shows.
    ``pool_hash`` and ``secret_hex`` must be 64 lowercase hex digits (``server_secret.hex()``).
    """
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
    document = {"spec": SPEC, "pool_hash": pool_hash, "secret": secret_hex, "witness": list(witness_list)}
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


def _is_id(value: Any) -> TypeGuard[str]:
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


def validate_pool(pool: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` describing the first problem if ``pool`` is not a well-formed pool.

    Checks: the five fields exist; ids are unique public ids (ASCII letters, digits, ``-``, ``_``);
    weights are integers 1..1000; ``can_lead`` is a boolean; conflicts and unavailable days are lists
    of strings; quotas are non-negative integers; slots have a dept and a role; working days are
    distinct strings.  A stratum absent from ``quotas`` simply gets quota 0.
    """
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


def _draw(p: _Pool, seed: str) -> dict[str, list[dict[str, Any]]]:
    seed_state = _seed_state(seed)
    drawn = _draw_units(p, seed_state)
    n_tasks = len(drawn)
    if n_tasks and not p.working_days:
        raise ValueError("pool.working_days is empty")

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


def draw(pool: Mapping[str, Any], seed: str) -> dict[str, list[dict[str, Any]]]:
    """Run the draw of spec section 3 and return ``{"result": [...], "unfillable": [...]}``.

    ``result`` lists the tasks in task order, each exactly
    ``{"unit_id", "planned_date", "assignments": [{"slot": k, "inspector_id": id}, ...]}`` with one
    assignment per slot, in slot order.

    Units: per stratum (sorted names) the ``quotas[stratum]`` lowest ``key("unit:" + id, weight)``
    (all if fewer; a stratum missing from quotas gets 0); all drawn units ordered by key.  Task ``i``
    is planned on ``working_days[i % len(working_days)]``.  Inspectors: for each task and slot, the
    candidates are the inspectors of the slot's dept who are not conflicted with the unit, not already
    on this task, ``can_lead`` if the role is ``lead`` and not unavailable on the planned date; those
    below their load cap ``ceil(S * w / W)`` are preferred (all candidates if none is), and the lowest
    ``key("insp:" + unit_id + ":" + k + ":" + inspector_id, weight)`` wins.

    A slot with no candidate gets ``"inspector_id": None`` and is listed in ``unfillable`` as
    ``{"unit_id", "slot", "planned_date"}``; the task keeps all its slots (never fewer than required)
    and such a draw must not be used.  Raises ``ValueError`` for an invalid pool.
    """
    return _draw(_prepare(pool), seed)


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
    return unit_id, day


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


def replace(
    pool: Mapping[str, Any],
    seed: str,
    task: Mapping[str, Any],
    slot: int,
    round_: int,
    ever_assigned: Iterable[str],
    unavailable_now: Mapping[str, Iterable[str]] | None = None,
    candidates: Iterable[str] | None = None,
) -> tuple[str | None, list[str]]:
    """Draw the replacement for ``slot`` of ``task`` (spec section 3, 递补抽取).

    Returns ``(winner, candidates)``: ``candidates`` ranked by
    ``key("repl:" + unit_id + ":" + slot + ":" + round_ + ":" + inspector_id, weight)`` (winner first;
    store this list as the bundle's ``candidates``) and ``winner`` its first entry, ``None`` if there is
    no candidate.  ``round_`` counts from 1 per task and slot.  No load caps.

    Two ways to give the candidate set:

    * the application, at the moment of replacement: leave ``candidates`` as ``None``.  The set is
      computed as in ``replacement_candidates`` from the pool, ``ever_assigned`` (everyone ever on this
      task -- see ``ever_assigned_to``) and ``unavailable_now`` (inspector id -> unavailable dates as
      recorded now; ``None`` uses the pool's lists);
    * the verifier, from a bundle entry: pass the recorded ``candidates`` list.  Exactly those are
      ranked (each must be a pool inspector, else ``ValueError``); ``ever_assigned`` and
      ``unavailable_now`` are then not used.  Their eligibility is checked separately by
      ``check_replacement_candidates``, because availability at the time cannot be re-derived.
    """
    p = _prepare(pool)
    unit_id, day = _task_fields(task)
    slot = _check_slot(p, slot)
    if type(round_) is not int or round_ < 1:
        raise ValueError(f"round must be an integer >= 1, got {round_!r}")
    if candidates is None:
        members = _eligible_for_replacement(p, unit_id, day, slot, set(ever_assigned), unavailable_now)
    else:
        members = []
        for cid in dict.fromkeys(candidates):
            if cid not in p.by_id:
                raise ValueError(f"candidate {cid!r} is not an inspector of the pool")
            members.append(p.by_id[cid])
    ranked = _replacement_order(_seed_state(seed), unit_id, slot, round_, members)
    return (ranked[0] if ranked else None), ranked


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


class _Differences(list[str]):
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


def verify_bundle(bundle: Any) -> list[str]:
    """Verify a published draw bundle; return ``[]`` for PASS, else the differences, first one first.

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
    if bundle.get("spec") != SPEC:
        return [f"spec is {bundle.get('spec')!r}, this verifier checks {SPEC!r}"]
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
        seed = compute_seed(actual_pool_hash, secret_hex, witness)
    except ValueError as exc:
        out.add(f"witness: {exc}")
        return list(out)
    if bundle.get("seed") != seed:
        out.add('seed does not match sha256(canonical({"spec", "pool_hash", "secret", "witness"}))')
    try:
        expected = _draw(p, seed)["result"]
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
        print("Checks a SuiJian draw bundle (spec suijian-draw/1) and prints PASS or FAIL: <first difference>.")
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
