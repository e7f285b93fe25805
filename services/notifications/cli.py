"""``parity-subscriptions``: manage who receives which notifications (stored in MongoDB).

    parity-subscriptions list
    parity-subscriptions add --id so-noi-vu --name "Sở Nội vụ" --email a@b.vn \\
        --unit U-0007 --rule target_breached --rule deadline_approaching --min-severity warning
    parity-subscriptions add --id dashboard --name Dashboard \\
        --webhook-url https://dash.example/hook --secret-env DASHBOARD_SECRET
    parity-subscriptions remove so-noi-vu
    parity-subscriptions seed deploy/subscriptions.example.yaml

Secrets never appear on the command line or in YAML: they are read from the environment
variable named by ``--secret-env`` / ``secret_env``. The store is read from the service's
settings (``PARITY_MONGODB_URL``, ``PARITY_MONGODB_DATABASE``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from services.notifications.domain.rules import RULES
from services.notifications.domain.subscriptions import Subscription
from services.notifications.settings import NotificationsSettings
from services.notifications.store import NotificationsStore
from shared.store import database, make_mongo_client


class SubscriptionsFileError(ValueError):
    """A subscriptions file that cannot be used; the message says where and why."""


def _with_secret(entry: dict[str, Any], where: str) -> dict[str, Any]:
    entry = dict(entry)
    variable = entry.pop("secret_env", None)
    if "secret" in entry:
        raise SubscriptionsFileError(f"{where}: give secret_env (a variable name), not secret")
    if variable is not None:
        if variable not in os.environ:
            raise SubscriptionsFileError(f"{where}: environment variable {variable} is not set")
        entry["secret"] = os.environ[variable]
    return entry


def read_subscriptions(path: Path) -> list[Subscription]:
    """The subscriptions of a YAML file: ``subscriptions: [{id, name, email, ...}, ...]``."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise SubscriptionsFileError(f"{path}: {error}") from None
    entries = raw.get("subscriptions") if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        raise SubscriptionsFileError(f"{path}: expected a mapping with a 'subscriptions' list")
    found: list[Subscription] = []
    problems: list[str] = []
    for index, entry in enumerate(entries):
        where = f"{path}: subscriptions[{index}]"
        try:
            if not isinstance(entry, dict):
                raise SubscriptionsFileError(f"{where}: expected a mapping")
            found.append(Subscription.model_validate(_with_secret(entry, where)))
        except SubscriptionsFileError as error:
            problems.append(str(error))
        except ValidationError as error:
            problems += [
                f"{where}: {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()
            ]
    ids = [s.id for s in found]
    problems += [
        f"{path}: subscription id {i!r} is used twice" for i in sorted(set(ids)) if ids.count(i) > 1
    ]
    if problems:
        raise SubscriptionsFileError("\n".join(problems))
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="parity-subscriptions", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list subscriptions (secrets are not shown)")
    add = commands.add_parser("add", help="add or replace a subscription")
    add.add_argument("--id", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--email")
    add.add_argument("--webhook-url")
    add.add_argument("--secret-env", help="environment variable holding the webhook secret")
    add.add_argument("--unit", help="follow this unit's subtree (default: everything)")
    add.add_argument("--rule", action="append", default=[], choices=RULES)
    add.add_argument("--min-severity", default="info", choices=("info", "warning", "critical"))
    add.add_argument("--language", choices=("vi", "en"))
    remove = commands.add_parser("remove", help="remove a subscription")
    remove.add_argument("id")
    seed = commands.add_parser("seed", help="add or replace the subscriptions of a YAML file")
    seed.add_argument("file", type=Path)
    return parser


def _describe(subscription: Subscription) -> str:
    reach = ", ".join(f"{channel} {address}" for channel, address in subscription.channels())
    rules = ",".join(subscription.rules) or "all rules"
    signed = " (signed)" if subscription.secret else ""
    scope = subscription.unit_id or "everything"
    return (
        f"{subscription.id}\t{subscription.name}\t{scope}\t{rules}\t"
        f">= {subscription.min_severity}\t{reach}{signed}"
    )


async def run_command(arguments: argparse.Namespace, settings: NotificationsSettings) -> str:
    """Carry out one command; returns what to print."""
    if arguments.command == "seed":
        subscriptions = read_subscriptions(arguments.file)
    elif arguments.command == "add":
        entry = {
            "id": arguments.id,
            "name": arguments.name,
            "email": arguments.email,
            "webhook_url": arguments.webhook_url,
            "unit_id": arguments.unit,
            "rules": arguments.rule,
            "min_severity": arguments.min_severity,
            "language": arguments.language,
            "secret_env": arguments.secret_env,
        }
        subscriptions = [Subscription.model_validate(_with_secret(entry, "--secret-env"))]
    client = make_mongo_client(settings.mongodb_url.get_secret_value(), app_name="subscriptions")
    try:
        store = NotificationsStore(database(client, settings.mongodb_database))
        if arguments.command == "list":
            return "\n".join(_describe(s) for s in await store.all_subscriptions())
        if arguments.command == "remove":
            removed = await store.remove_subscription(arguments.id)
            return f"removed {arguments.id}" if removed else f"no subscription {arguments.id}"
        for subscription in subscriptions:
            await store.put_subscription(subscription)
        return f"stored {len(subscriptions)} subscription(s)"
    finally:
        await client.close()


def main(argv: Sequence[str] | None = None) -> None:
    arguments = build_parser().parse_args(argv)
    try:
        output = asyncio.run(run_command(arguments, NotificationsSettings()))
    except (SubscriptionsFileError, ValidationError) as error:
        print(f"parity-subscriptions: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    if output:
        print(output)


if __name__ == "__main__":
    main()
