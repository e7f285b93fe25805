"""``parity import roster.xlsx`` (or CSV): bootstrap Parity from the staff roster a province keeps.

Every row is checked first (:func:`services.kit.roster.plan.plan_import`); refused rows are
reported with their sheet, row number and reason and publish nothing. The accepted units are
produced first (parent before child), then the people's events, and every ack is awaited.
Importing the same roster again produces the same event ids, which the consumers ignore.
"""

from __future__ import annotations

import argparse
import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

from services.kit.commands import Command
from services.kit.console import EXIT_FAILED, EXIT_OK, EXIT_REJECTED, Output, by_type
from services.kit.producing import KafkaSender, ProduceError, kafka_settings
from services.kit.roster.plan import DEFAULT_SOURCE, ImportOptions, ImportPlan, plan_import
from services.kit.roster.reading import read_roster
from services.kit.roster.sheets import RosterError
from shared.clock import VIETNAM
from shared.contract import check_year

_SOURCE_NAME = re.compile(r"^[A-Za-z0-9._:/-]{1,150}$")


def as_of(value: str) -> datetime:
    """``YYYY-MM-DD`` (its first moment in Vietnam) or an ISO date-time (Vietnam if naive)."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date or date-time") from None
    try:
        check_year(parsed.year)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{value!r}: {error}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=VIETNAM)


def source_name(value: str) -> str:
    if not _SOURCE_NAME.match(value):
        raise argparse.ArgumentTypeError("use letters, digits and . _ : / - (at most 150)")
    return f"{DEFAULT_SOURCE}/{value}"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("roster", type=Path, help="roster .xlsx, a folder of CSVs, or people CSV")
    parser.add_argument("--units", type=Path, help="units CSV (default: units.csv beside it)")
    parser.add_argument(
        "--source",
        type=source_name,
        default=None,
        metavar="NAME",
        help=f"publish as source {DEFAULT_SOURCE}/NAME (default {DEFAULT_SOURCE}); keep it "
        "the same on every import of a roster",
    )
    parser.add_argument(
        "--as-of",
        type=as_of,
        default=None,
        help="when the roster's state takes effect (default: now)",
    )
    parser.add_argument(
        "--known-unit",
        action="append",
        default=[],
        metavar="UNIT_ID",
        help="a unit Parity already has, that rows may name without listing it (repeatable)",
    )
    parser.add_argument("--dry-run", action="store_true", help="check only; produce nothing")


async def produce(plan: ImportPlan, output: Output) -> None:
    with output.progress() as progress:
        units = progress.add_task("units", total=len(plan.unit_records))
        people = progress.add_task("people's events", total=len(plan.person_records))
        settings = kafka_settings()
        async with KafkaSender(settings, on_acked=lambda n: progress.advance(units, n)) as sender:
            await sender.send_all(plan.unit_records)  # units first: people refer to them
        async with KafkaSender(settings, on_acked=lambda n: progress.advance(people, n)) as sender:
            await sender.send_all(plan.person_records)


def run(args: argparse.Namespace, output: Output) -> int:
    options = ImportOptions(
        source=args.source or DEFAULT_SOURCE,
        as_of=args.as_of or datetime.now(UTC),
        known_units=frozenset(args.known_unit),
    )
    try:
        with output.busy(f"reading {args.roster}"):
            roster = read_roster(args.roster, args.units)
    except RosterError as error:
        output.error(str(error))
        return EXIT_FAILED
    if not roster.units and not options.known_units:
        output.note("the roster lists no units: every unit must be given with --known-unit")
    with output.busy(f"checking {len(roster.units)} units and {len(roster.people)} people"):
        plan = plan_import(roster, options)
    output.rejections(plan.rejections)
    if not args.dry_run:
        try:
            asyncio.run(produce(plan, output))
        except ProduceError as error:
            output.error(str(error))
            output.error("importing the same roster again completes it and repeats nothing")
            return EXIT_FAILED
    output.summary(
        f"{args.roster}: {'checked (dry run, nothing produced)' if args.dry_run else 'imported'}",
        [
            ("source", options.source),
            ("units accepted", plan.units_accepted),
            ("people accepted", plan.people_accepted),
            ("rows rejected", len(plan.rejections)),
            ("events", len(plan.records)),
            *by_type(plan.records),
        ],
    )
    if plan.rejections:
        done = "were checked" if args.dry_run else "were published"
        output.note(f"{len(plan.rejections)} row(s) rejected; the accepted rows {done}")
        return EXIT_REJECTED
    return EXIT_OK


COMMAND = Command(
    name="import",
    help="turn a staff roster (.xlsx or CSV) into the contract's events and publish them",
    configure=configure,
    run=run,
)
