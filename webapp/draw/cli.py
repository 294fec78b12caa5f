"""``flask draw …``: the ceremony for operators and auditors (filled in by the draw CLI work)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

draw_cli = AppGroup("draw", help="Plans and draws (双随机): run, publish, replace, abandon, export.")


def register_draw_cli(app: Flask) -> None:
    app.cli.add_command(draw_cli)


__all__ = ["click", "draw_cli", "register_draw_cli"]
