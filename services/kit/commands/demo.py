"""``parity demo``: load the demo province (deploy/demo/lang-son-dolisa.jsonl): every line
checked with the consumers' decoder, produced with the idempotent producer, every ack awaited.

By default the demo's years are replayed in order (:mod:`services.kit.replay`): the
personnel, inspection and indicator services run in this process on a clock at the end of
each year, so the indicator history, and the report's trend, has a point per year. The
services of ``make run`` must be stopped meanwhile. ``--live`` publishes everything at once
into the running services instead (the history then starts on the day of loading).

The file is generated once by ``deploy/demo/generate.py`` and checked in. Its event ids are
stable, so loading it twice changes nothing (the consumers ignore redeliveries).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import ValidationError

from services.kit.commands import Command
from services.kit.commands.publish import Tally
from services.kit.console import EXIT_FAILED, EXIT_OK, EXIT_REJECTED, Output
from services.kit.lines import check_line, is_blank
from services.kit.producing import KafkaSender, ProduceError, kafka_settings
from services.kit.records import OutboundRecord, Rejection
from services.kit.replay import (
    ReplayError,
    Services,
    Stage,
    effective_time,
    replay,
    running_services,
    stages,
)
from shared.clock import VIETNAM, SystemClock, local_date

DEMO_FILE = Path(__file__).resolve().parents[3] / "deploy" / "demo" / "lang-son-dolisa.jsonl"
DEMO_PLAN = "lang-son-dolisa-2022"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--file", type=Path, default=DEMO_FILE, help=f"demo events (default {DEMO_FILE.name})"
    )
    parser.add_argument("--dry-run", action="store_true", help="check only; produce nothing")
    parser.add_argument(
        "--live",
        action="store_true",
        help="publish into the running services at once (no replay; the trend starts today)",
    )


async def produce(records: Sequence[OutboundRecord], *, output: Output) -> None:
    """Produce the checked records into the running services (``--live``), every ack awaited."""
    with output.progress() as progress:
        task = progress.add_task("producing", total=len(records))

        def acked(count: int) -> None:
            progress.advance(task, count)

        async with KafkaSender(kafka_settings(), on_acked=acked) as sender:
            await sender.send_all(records)


def checked_records(path: Path, *, output: Output, tally: Tally) -> list[OutboundRecord]:
    """The file's good lines as records (the bad ones reported and tallied)."""
    found = []
    with path.open("rb") as stream:
        for line_no, line in enumerate(stream, start=1):
            if is_blank(line):
                continue
            checked = check_line(line_no, line)
            if isinstance(checked, Rejection):
                tally.rejected.append(checked)
                output.rejections([checked])
                continue
            tally.accepted[checked.event_type] += 1
            found.append(checked)
    return found


async def load_replayed(records: Sequence[OutboundRecord], *, output: Output) -> list[Stage]:
    """Replay the records' years through the services (see :mod:`services.kit.replay`)."""
    plan = stages(((effective_time(r), r) for r in records), SystemClock().now())
    services = Services.from_environment()
    live = running_services(services)
    if live:
        raise ReplayError(
            f"the services are running ({', '.join(live)}): stop them (make run) and try "
            "again, or load into them with --live (no replay)"
        )
    with output.progress(in_bytes=False) as progress:
        task = progress.add_task("replaying year by year", total=len(plan))

        def done(stage: Stage) -> None:
            progress.advance(task, 1)
            output.note(f"{local_date(stage.clock)}: {len(stage.records)} event(s), settled")

        async with KafkaSender(services.kafka) as sender:
            await replay(plan, services=services, sender=sender, on_stage=done)
    return plan


def contents(records: Iterable[OutboundRecord]) -> list[tuple[str, object]]:
    """What the demo province holds (units by level, people, the span of its events), from
    the records that passed the consumers' check: a refused line is counted nowhere."""
    levels: Counter[str] = Counter()
    people, inspections, times = set(), set(), []
    for record in records:
        event = json.loads(record.value)  # a JSON object: the decoder accepted it
        times.append(effective_time(record).astimezone(VIETNAM))
        if record.event_type == "hr.unit.registered":
            levels[event["data"]["level"]] += 1
        elif record.event_type == "hr.person.registered":
            people.add(record.key.decode())
        elif record.event_type.startswith("inspection."):
            inspections.add(record.key.decode())
    return [
        *((f"units ({level})", n) for level, n in sorted(levels.items())),
        ("people", len(people)),
        ("inspections", len(inspections)),
        ("effective from", min(times).isoformat() if times else "—"),
        ("effective to", max(times).isoformat() if times else "—"),
    ]


def run(args: argparse.Namespace, output: Output) -> int:
    tally = Tally()
    try:
        records = checked_records(args.file, output=output, tally=tally)
    except OSError as error:
        output.error(f"cannot read {args.file}: {error}")
        return EXIT_FAILED
    try:
        if args.live and not args.dry_run:
            asyncio.run(produce(records, output=output))
        elif not args.dry_run:
            asyncio.run(load_replayed(records, output=output))
    except ValidationError as error:
        output.error(f"invalid PARITY_* settings: {error}")
        return EXIT_FAILED
    except ReplayError as error:
        output.error(str(error))
        return EXIT_FAILED
    except ProduceError as error:
        output.error(str(error))
        output.error(f"{error.acked} record(s) were acknowledged before the failure")
        return EXIT_FAILED
    title = (
        "checked (dry run, nothing produced)"
        if args.dry_run
        else "published"
        if args.live
        else "replayed year by year"
    )
    output.summary(f"demo province {args.file.name}: {title}", contents(records) + tally.lines())
    if tally.rejected:
        output.note(f"{len(tally.rejected)} line(s) rejected")
        return EXIT_REJECTED
    if not args.dry_run:
        output.note(
            "once the services have caught up: "
            f"parity report --plan {DEMO_PLAN}   and   parity export --year <YYYY>"
        )
    return EXIT_OK


COMMAND = Command(
    name="demo",
    help="load the demo province (Lạng Sơn's Department of Labour) into a running system",
    configure=configure,
    run=run,
)
