"""``switchyard projects …`` and ``switchyard keys …``: the administration API's
project and key operations, run directly on the configured database (the same
configuration as ``serve``). A running server sees a change within
``auth_cache_seconds``."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from switchyard.config import Settings
from switchyard.core.errors import SwitchyardError
from switchyard.store.database import Database
from switchyard.store.keys import ApiKeyRecord, KeySettings
from switchyard.tenancy.service import OrganizationService, not_found

_DURATION = re.compile(r"^(\d+)([smhdw]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def duration(text: str) -> timedelta:
    """``3600``, ``90m``, ``12h``, ``30d``, ``2w``."""
    match = _DURATION.match(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (use e.g. 3600, 90m, 12h, 30d)")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def usd(text: str) -> Decimal:
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise argparse.ArgumentTypeError(f"not an amount of US dollars: {text!r}") from exc
    if not amount.is_finite() or amount <= 0:
        raise argparse.ArgumentTypeError(f"not a positive amount of US dollars: {text!r}")
    return amount


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    def configured(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        parser.add_argument("--config", help="YAML config file (default: $SWITCHYARD_CONFIG)")
        parser.add_argument("--data-dir", help="data directory (default: $SWITCHYARD_DATA_DIR or ./data)")
        return parser

    projects = sub.add_parser("projects", help="create, list and archive projects").add_subparsers(
        dest="action", required=True)
    create = configured(projects.add_parser("create", help="create a project; prints its id"))
    create.add_argument("name")
    listing = configured(projects.add_parser("list", help="list projects"))
    listing.add_argument("--all", action="store_true", help="archived projects too")
    archive = configured(projects.add_parser("archive", help="archive a project (its keys stop working)"))
    archive.add_argument("project_id")

    keys = sub.add_parser("keys", help="create, list and revoke project API keys").add_subparsers(
        dest="action", required=True)
    make = configured(keys.add_parser("create", help="create a project API key; prints the secret once"))
    make.add_argument("--project", required=True, help="project id (proj_default is the default project)")
    make.add_argument("--name", default="Secret key")
    make.add_argument("--expires-in", type=duration, help="lifetime: 3600, 90m, 12h, 30d, 2w")
    make.add_argument("--models", type=_names, help="comma-separated model names or patterns it may call")
    make.add_argument("--ips", type=_names, help="comma-separated addresses or CIDR blocks it may come from")
    make.add_argument("--rpm", type=int, help="requests per minute")
    make.add_argument("--tpm", type=int, help="tokens per minute")
    make.add_argument("--concurrency", type=int, help="concurrent requests")
    make.add_argument("--budget", type=usd, help="spend limit in US dollars")
    make.add_argument("--budget-interval", choices=["month", "day", "total"], default="total")
    shown = configured(keys.add_parser("list", help="list active keys"))
    shown.add_argument("--project", help="only this project's keys")
    revoke = configured(keys.add_parser("revoke", help="revoke a key"))
    revoke.add_argument("key_id")


def _key_line(key: ApiKeyRecord) -> str:
    s = key.settings
    expires = s.expires_at.isoformat() if s.expires_at else "never"
    models = ",".join(s.allowed_models) if s.allowed_models is not None else "*"
    state = "enabled" if s.enabled else "disabled"
    return f"{key.id}\t{key.owner_id}\t{key.name}\t{key.key_prefix}****\t{state}\texpires={expires}\tmodels={models}"


async def _create_project(args: argparse.Namespace, org: OrganizationService) -> None:
    print((await org.create_project(args.name)).id)


async def _list_projects(args: argparse.Namespace, org: OrganizationService) -> None:
    for p in await org.list_projects(include_archived=args.all):
        print(f"{p.id}\t{p.name}\t{'archived' if p.archived else 'active'}")


async def _archive_project(args: argparse.Namespace, org: OrganizationService) -> None:
    print((await org.archive_project(args.project_id)).id)


async def _create_key(args: argparse.Namespace, org: OrganizationService) -> None:
    settings = KeySettings(
        expires_at=datetime.now(UTC) + args.expires_in if args.expires_in else None,
        allowed_models=args.models, allowed_ips=args.ips, rpm_limit=args.rpm, tpm_limit=args.tpm,
        concurrency_limit=args.concurrency, budget_usd=args.budget,
        budget_interval=args.budget_interval if args.budget else None)
    created = await org.create_key(args.project, args.name, settings)
    print(f"{created.record.id}\t{created.secret}")


async def _list_keys(args: argparse.Namespace, org: OrganizationService) -> None:
    projects = [args.project] if args.project else [p.id for p in await org.list_projects(True)]
    for project_id in projects:
        for key in await org.list_keys(project_id):
            print(_key_line(key))


async def _revoke_key(args: argparse.Namespace, org: OrganizationService) -> None:
    found = await org.keys.find_by_id(args.key_id)
    if found is None or found.revoked or found.kind != "project":
        raise not_found("API key", args.key_id)
    await org.delete_key(found.owner_id, found.id)
    print(found.id)


Action = Callable[[argparse.Namespace, OrganizationService], Awaitable[None]]
ACTIONS: dict[tuple[str, str], Action] = {
    ("projects", "create"): _create_project,
    ("projects", "list"): _list_projects,
    ("projects", "archive"): _archive_project,
    ("keys", "create"): _create_key,
    ("keys", "list"): _list_keys,
    ("keys", "revoke"): _revoke_key,
}
COMMANDS = frozenset(command for command, _ in ACTIONS)


async def _run(args: argparse.Namespace, settings: Settings) -> None:
    database = Database(settings.resolved_database_url)
    await database.start()
    try:
        await ACTIONS[args.command, args.action](args, OrganizationService(database))
    finally:
        await database.aclose()


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Exit status 0, or 1 with the reason on stderr."""
    try:
        asyncio.run(_run(args, settings))
    except SwitchyardError as error:
        print(f"switchyard: {error.message}", file=sys.stderr)
        return 1
    return 0
