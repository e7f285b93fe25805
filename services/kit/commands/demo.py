"""``parity demo``: load the demo province (deploy/demo/lang-son-dolisa.jsonl) into a running
system through the same path as ``parity publish``: every line checked with the consumers'
decoder, produced with the idempotent producer, every ack awaited.

The file is generated once by ``deploy/demo/generate.py`` and checked in. Its event ids are
stable, so loading it twice changes nothing (the consumers ignore redeliveries).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import Counter
from pathlib import Path

from services.kit.commands import Command
from services.kit.commands.publish import Tally, opened, publish
from services.kit.console import EXIT_FAILED, EXIT_OK, EXIT_REJECTED, Output
from services.kit.producing import KafkaSender, ProduceError, kafka_settings

DEMO_FILE = Path(__file__).resolve().parents[3] / "deploy" / "demo" / "lang-son-dolisa.jsonl"
DEMO_PLAN = "lang-son-dolisa-2022"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--file", type=Path, default=DEMO_FILE, help=f"demo events (default {DEMO_FILE.name})"
    )
    parser.add_argument("--dry-run", action="store_true", help="check only; produce nothing")


async def load(path: Path, *, dry_run: bool, output: Output, tally: Tally) -> None:
    with opened(str(path)) as (stream, size):
        if dry_run:
            await publish(stream, size, sender=None, output=output, tally=tally)
            return
        async with KafkaSender(kafka_settings()) as sender:
            await publish(stream, size, sender=sender, output=output, tally=tally)


def contents(path: Path) -> list[tuple[str, object]]:
    """What the demo province holds: units by level, people, the span of its events."""
    levels: Counter[str] = Counter()
    people, inspections, times = set(), set(), []
    with path.open(encoding="utf-8") as stream:
        for line in stream:
            if not line.strip():
                continue
            event = json.loads(line)
            times.append(event["time"])
            if event["type"] == "hr.unit.registered":
                levels[event["data"]["level"]] += 1
            elif event["type"] == "hr.person.registered":
                people.add(event["subject"])
            elif event["type"].startswith("inspection."):
                inspections.add(event["subject"])
    return [
        *((f"units ({level})", n) for level, n in sorted(levels.items())),
        ("people", len(people)),
        ("inspections", len(inspections)),
        ("effective from", min(times, default="—")),
        ("effective to", max(times, default="—")),
    ]


def run(args: argparse.Namespace, output: Output) -> int:
    tally = Tally()
    try:
        asyncio.run(load(args.file, dry_run=args.dry_run, output=output, tally=tally))
        summary = contents(args.file)
    except (OSError, json.JSONDecodeError, KeyError) as error:
        output.error(f"cannot read {args.file}: {error!r}")
        return EXIT_FAILED
    except ProduceError as error:
        output.error(str(error))
        output.error(f"{error.acked} record(s) were acknowledged before the failure")
        return EXIT_FAILED
    title = "checked (dry run, nothing produced)" if args.dry_run else "published"
    output.summary(f"demo province {args.file.name}: {title}", summary + tally.lines())
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
