"""``parity export --year YYYY``: open data, every indicator of every unit as of the end of
the year (from the indicator history), with small-cell suppression."""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from datetime import date
from pathlib import Path

from pydantic import ValidationError
from pymongo.errors import PyMongoError

from services.kit.commands import Command
from services.kit.commands.report import add_store_options, report_year, settings_of
from services.kit.console import EXIT_FAILED, EXIT_OK, Output
from services.reporting.history import HistoryError
from services.reporting.opendata import DEFAULT_THRESHOLD
from services.reporting.runs import FORMATS, ReportError, read_history, write_export
from shared.clock import SystemClock, local_date


def threshold(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("the threshold cannot be negative")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--year", type=report_year, required=True, help="the year (as of 31 December)"
    )
    parser.add_argument("--format", choices=FORMATS, default="csv", dest="file_format")
    parser.add_argument(
        "--threshold",
        type=threshold,
        default=DEFAULT_THRESHOLD,
        help=f"withhold counts below it, and shares built on them (default {DEFAULT_THRESHOLD})",
    )
    parser.add_argument("--out", type=Path, default=Path("exports"), help="output folder")
    add_store_options(parser)


def run(args: argparse.Namespace, output: Output) -> int:
    try:
        settings = settings_of(args)
        with output.busy("reading the indicator history"):
            records, _ = asyncio.run(
                read_history(settings, date(args.year, 12, 31), with_recommendations=False)
            )
        rows, path = write_export(
            args.year,
            records,
            args.out,
            file_format=args.file_format,
            threshold=args.threshold,
            source=settings.indicators_database,
        )
    except ValidationError as error:
        output.error(f"invalid PARITY_* settings: {error}")
        return EXIT_FAILED
    except (ReportError, HistoryError, ValueError) as error:
        output.error(str(error))
        return EXIT_FAILED
    except PyMongoError as error:
        output.error(f"cannot read the store: {error}")
        return EXIT_FAILED
    withheld = Counter(r.indicator for r in rows if r.released.withheld)
    units = len({r.status.unit_id for r in rows})
    if local_date(SystemClock().now()) <= date(args.year, 12, 31):
        output.note(f"{args.year} has not ended: the figures are the latest so far")
    output.summary(
        f"open data {args.year} written",
        [
            ("file", path),
            ("units", units),
            ("figures", len(rows)),
            (f"withheld (below {args.threshold})", sum(withheld.values())),
            *((f"  {indicator}", n) for indicator, n in sorted(withheld.items())),
        ],
    )
    return EXIT_OK


COMMAND = Command(
    name="export",
    help="open data: indicators per unit for a year, with small-cell suppression (CSV or XLSX)",
    configure=configure,
    run=run,
)
