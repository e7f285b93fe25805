"""``parity publish events.jsonl``: check each line as the consumers would, produce the good ones.

A line's ``type`` decides its topic, its ``subject`` is the record key, and its exact bytes
are the record value (structured mode). A refused line is reported with its number and the
reason a consumer would have dead-lettered it, and nothing is produced for it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from services.kit.commands import Command
from services.kit.console import EXIT_FAILED, EXIT_OK, EXIT_REJECTED, Output
from services.kit.lines import check_line, is_blank
from services.kit.producing import KafkaSender, ProduceError, kafka_settings
from services.kit.records import Rejection


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("events", help="JSON Lines file of CloudEvents (structured mode), or -")
    parser.add_argument("--dry-run", action="store_true", help="check only; produce nothing")


@contextmanager
def opened(name: str) -> Iterator[tuple[BinaryIO, int | None]]:
    """The events file and its size (None for stdin)."""
    if name == "-":
        yield sys.stdin.buffer, None
        return
    path = Path(name)
    with path.open("rb") as stream:
        yield stream, path.stat().st_size


class Tally:
    def __init__(self) -> None:
        self.accepted: Counter[str] = Counter()
        self.rejected: list[Rejection] = []

    def lines(self) -> list[tuple[str, object]]:
        found: list[tuple[str, object]] = [
            ("accepted lines", sum(self.accepted.values())),
            ("rejected lines", len(self.rejected)),
        ]
        return found + [(f"  {t}", n) for t, n in sorted(self.accepted.items())]


async def publish(
    stream: BinaryIO,
    size: int | None,
    *,
    sender: KafkaSender | None,
    output: Output,
    tally: Tally,
) -> None:
    with output.progress(in_bytes=True) as progress:
        task = progress.add_task("checking" if sender is None else "producing", total=size)
        for line_no, line in enumerate(stream, start=1):
            progress.advance(task, len(line))
            if is_blank(line):
                continue
            checked = check_line(line_no, line)
            if isinstance(checked, Rejection):
                tally.rejected.append(checked)
                output.rejections([checked])
                continue
            tally.accepted[checked.event_type] += 1
            if sender is not None:
                await sender.send(checked)
        if sender is not None:
            await sender.flush()


async def run_async(args: argparse.Namespace, output: Output, tally: Tally) -> None:
    with opened(args.events) as (stream, size):
        if args.dry_run:
            await publish(stream, size, sender=None, output=output, tally=tally)
            return
        async with KafkaSender(kafka_settings()) as sender:
            await publish(stream, size, sender=sender, output=output, tally=tally)


def run(args: argparse.Namespace, output: Output) -> int:
    tally = Tally()
    try:
        asyncio.run(run_async(args, output, tally))
    except OSError as error:
        output.error(f"cannot read {args.events}: {error}")
        return EXIT_FAILED
    except ProduceError as error:
        output.error(str(error))
        output.error(f"{error.acked} record(s) were acknowledged before the failure")
        return EXIT_FAILED
    title = "checked (dry run, nothing produced)" if args.dry_run else "published"
    output.summary(f"{args.events}: {title}", tally.lines())
    if tally.rejected:
        produced = "were checked" if args.dry_run else "were produced"
        output.note(f"{len(tally.rejected)} line(s) rejected; the accepted lines {produced}")
        return EXIT_REJECTED
    return EXIT_OK


COMMAND = Command(
    name="publish",
    help="check CloudEvents (JSON Lines) against the contract and produce them to Kafka",
    configure=configure,
    run=run,
)
