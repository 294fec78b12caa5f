"""Commands of auth: ``flask create-user`` (the first administrator of a fresh installation, or any user)."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from webapp.auth import services
from webapp.auth.models import Organisation, Role
from webapp.extensions import db

# Where each service error belongs on the command line.
_OPTION_OF = {"username": "USERNAME", "display_name": "--name", "role": "--role", "org_id": "--org"}


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line: str = sys.stdin.readline()
        return line.rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@click.command("create-user")
@click.argument("username")
@click.option(
    "--role", required=True, type=click.Choice([r.value for r in Role]), help="admin, supervisor or inspector"
)
@click.option("--org", "org_code", required=True, metavar="CODE", help="the organisation's code (机构代码)")
@click.option("--name", "display_name", required=True, help="the person's name as shown on pages (姓名)")
@click.option("--password-stdin", is_flag=True, help="read the password from the first line of standard input")
@with_appcontext
def create_user(username: str, role: str, org_code: str, display_name: str, password_stdin: bool) -> None:
    """Create a login: USERNAME with ROLE in organisation CODE (audited ``user.created``).

    The password is asked for twice without echo, or read from standard input with --password-stdin
    (e.g. from a secrets manager). The same rules as the admin page apply (at least 10 characters …).
    """
    org = services.find_org(org_code)
    if org is None:
        raise click.ClickException(f"no organisation with code {org_code!r} (找不到机构代码)")
    password = _read_password(password_stdin)
    try:
        user = services.create_user(
            None, username, display_name, password, Role(role), org.id, reason="flask create-user"
        )
    except services.Invalid as exc:
        db.session.rollback()
        lines = [f"{_OPTION_OF.get(k, k)}: {msg}" for k, msg in exc.errors.items()]
        raise click.ClickException("\n".join(lines)) from None
    db.session.commit()
    click.echo(f"created user {user.username} ({role}, {_org_label(org)})")


def _org_label(org: Organisation) -> str:
    return f"{org.code} {org.name}"


COMMANDS: list[click.Command] = [create_user]
