"""``flask demo``: load the demo data into an upgraded, empty database and print the demo accounts."""

from __future__ import annotations

import sys
import time
import unicodedata
from collections.abc import Sequence

import click
from flask.cli import with_appcontext

from webapp import demo


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def format_table(rows: Sequence[tuple[str, ...]]) -> str:
    """A plain text table whose columns line up in a terminal (Chinese characters count double)."""
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(_pad(c, w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


_NAMED = ("admin", "supervisor", "supervisor2", "supervisor3", "market-supervisor", "inspector")


def accounts_text(summary: demo.DemoSummary) -> str:
    """The named demo accounts as a table, then the other inspectors' logins per organisation."""
    named = {a.username: a for a in summary.accounts}
    rows = [("username", "role", "organisation", "name", "password")]
    rows += [
        (a.username, a.role.value, a.org_name, a.display_name, demo.DEMO_PASSWORD)
        for a in (named[u] for u in _NAMED if u in named)
    ]
    lines = [format_table(rows), "", f"Other inspector logins (password {demo.DEMO_PASSWORD}):"]
    by_org: dict[str, list[str]] = {}
    for a in summary.accounts:
        if a.username not in _NAMED:
            by_org.setdefault(a.org_name, []).append(a.username)
    for org_name, names in by_org.items():
        lines.append(
            f"  {org_name}: {names[0]} … {names[-1]} ({len(names)})"
            if len(names) > 2
            else f"  {org_name}: {', '.join(names)}"
        )
    return "\n".join(lines)


@click.command("demo")
@click.option(
    "--units",
    default=demo.DEFAULT_UNITS,
    show_default=True,
    type=click.IntRange(0, 10_000_000),
    help="Number of units (检查对象) to generate; use e.g. 1000000 for benchmarks.",
)
@click.option(
    "--inspectors",
    default=demo.DEFAULT_INSPECTORS,
    show_default=True,
    type=click.IntRange(8, 5000),
    help="Number of inspectors over the three 大队 and the market department.",
)
@click.option(
    "--seed",
    default=demo.DEFAULT_SEED,
    show_default=True,
    type=int,
    help="Random seed: the same seed gives the same data.",
)
@click.option("--if-empty", is_flag=True, help="Do nothing (exit 0) if the database already has data.")
@with_appcontext
def demo_command(units: int, inspectors: int, seed: int, if_empty: bool) -> None:
    """Load the demo data (organisations, accounts, inspectors, units) into an empty, upgraded database."""
    if not demo.database_ready():
        click.echo("Error: the database has no tables. Run `flask db upgrade` first.", err=True)
        sys.exit(1)
    if not demo.database_is_empty():
        if if_empty:
            accounts = demo.loaded_accounts()
            if accounts:  # `make run` again: nothing to load, but the accounts are what a newcomer needs
                click.echo("The demo data is already loaded (nothing changed).")
                _print_accounts(demo.DemoSummary(seed=seed, accounts=accounts))
            return
        click.echo(
            "Error: the database already has organisations; the demo loads only into an empty database.\n"
            "Use `flask demo --if-empty` to skip silently, or start from a new database.",
            err=True,
        )
        sys.exit(1)

    started = time.perf_counter()
    last = [started]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if total > demo.BATCH_SIZE and (now - last[0] > 2 or done == total):
            last[0] = now
            rate = done / max(now - started, 1e-9)
            click.echo(f"  units {done:,}/{total:,} ({done * 100 // total} %, {rate:,.0f}/s)")

    click.echo(f"Loading demo data (seed {seed}, {units:,} units, {inspectors} inspectors) …")
    try:
        summary = demo.load_demo(units=units, inspectors=inspectors, seed=seed, progress=progress)
    except demo.DemoError as e:
        click.echo(f"Error: {e}", err=True)
        sys.exit(1)
    click.echo(
        f"Created {summary.organisations} organisations, {summary.items} items, {summary.users} accounts, "
        f"{summary.inspectors} inspectors ({summary.frozen_inspectors} frozen, {summary.leave_periods} leave periods, "
        f"{summary.conflicts} conflicts) and {summary.units:,} units "
        f"({summary.zombie_units} zombie, {summary.closed_units} closed, {summary.incomplete_units} with missing data) "
        f"in {time.perf_counter() - started:.1f} s."
    )
    if summary.published_draw:
        click.echo(
            f"This month's draw for demo-1 is witnessed and published: /public/draws/{summary.published_draw} "
            "(verify it with the bundle and verify.py offered there)."
        )
    click.echo("")
    _print_accounts(summary)


def _print_accounts(summary: demo.DemoSummary) -> None:
    click.echo("Demo accounts (demo only — change or disable them before real use):")
    click.echo(accounts_text(summary))


COMMANDS: list[click.Command] = [demo_command]
