"""The worked example on the how-to-verify page, computed with the real engine (never typed by hand).

A toy draw: five units in one stratum, one of them weighted 200 (e.g. red risk level), two drawn.
Every figure the page shows (commitment, seed, tickets, keys, the result) comes from ``webapp.draw.engine``,
so the example cannot drift from the specification.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from webapp.draw import engine

SECRET = bytes.fromhex("5a" * 32)
WITNESS = ["31415926535897932384", "27182818284590452353"]
UNITS = [("U-A", 100), ("U-B", 100), ("U-C", 200), ("U-D", 100), ("U-E", 100)]
QUOTA = 2


@dataclass
class ExampleUnit:
    id: str
    weight: int
    ticket: str  # "0.1234567890…" (the first 12 digits)
    key: str  # the weighted key, same format
    rank: int
    drawn: bool


@dataclass
class Example:
    secret_hex: str
    commitment: str
    pool_hash: str
    witness: list[str]
    seed: str
    units: list[ExampleUnit]
    quota: int


def _fraction(n: int) -> str:
    return "0." + format(n, "078d")[:12] + "…"


@lru_cache(maxsize=1)
def worked_example() -> Example:
    pool = {
        "units": [{"id": uid, "stratum": "general", "weight": w} for uid, w in UNITS],
        "quotas": {"general": QUOTA},
    }
    phash = engine.pool_hash(pool)
    seed = engine.compute_seed(phash, SECRET.hex(), WITNESS)
    keyed = []
    for uid, w in UNITS:
        t = engine.ticket(seed, "unit:" + uid)
        k, _s = engine.key(seed, "unit:" + uid, w)
        keyed.append((k, uid, w, t))
    keyed.sort()
    units = [
        ExampleUnit(uid, w, _fraction(t), _fraction(min(k, 10**78 - 1)), rank, rank <= QUOTA)
        for rank, (k, uid, w, t) in enumerate(keyed, start=1)
    ]
    return Example(
        secret_hex=SECRET.hex(),
        commitment=engine.commitment(SECRET),
        pool_hash=phash,
        witness=list(WITNESS),
        seed=seed,
        units=units,
        quota=QUOTA,
    )
