"""``parity report --plan ID --as-of DATE``: a plan's annual report as of a date, from the
indicator history (HTML with inline SVG charts, and an XLSX annex)."""

from __future__ import annotations

import argparse
import asyncio
from datetime import date
from pathlib import Path

from pydantic import ValidationError
from pymongo.errors import PyMongoError

from services.kit.commands import Command
from services.kit.console import EXIT_FAILED, EXIT_OK, Output
from services.reporting.annual import MilestoneCheck
from services.reporting.history import HistoryError
from services.reporting.runs import ReportError, ReportFiles, find_plan, read_history, write_report
from services.reporting.settings import ReportingSettings
from services.reporting.vocabulary import (
    MET,
    NO_DATA,
    NOT_MET,
    decimals_for,
    label,
    percent,
    points,
)
from shared.clock import SystemClock, local_date
from shared.contract import check_year
from shared.plans import PlanError


def plausible(year: int, shown: str) -> None:
    """A year the history can hold (the consumers refuse others); a usage error if not."""
    try:
        check_year(year)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{shown!r}: {error}") from None


def report_date(text: str) -> date:
    """``--as-of``: a ``YYYY-MM-DD`` date in the years 1900 to 2999."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None
    plausible(day.year, text)
    return day


def report_year(text: str) -> int:
    """``--year``: a year from 1900 to 2999."""
    try:
        year = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a year") from None
    plausible(year, text)
    return year


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--plan", required=True, help="plan id, e.g. lang-son-dolisa-2022")
    parser.add_argument(
        "--as-of",
        type=report_date,
        default=None,
        metavar="YYYY-MM-DD",
        help="the report's date (to its end, Vietnam time); default today",
    )
    parser.add_argument("--out", type=Path, default=Path("reports"), help="output folder")
    parser.add_argument("--pdf", action="store_true", help="also print the page to PDF")
    add_store_options(parser)
    parser.add_argument(
        "--no-recommendations",
        action="store_true",
        help="do not read the inspection service's recommendations (history figures only)",
    )


def add_store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database", help="the indicator service's database (PARITY_INDICATORS_DATABASE)"
    )
    parser.add_argument(
        "--inspections-database",
        help="the inspection service's database (PARITY_INSPECTIONS_DATABASE)",
    )
    parser.add_argument("--plans-dir", type=Path, help="plans folder (PARITY_PLANS_DIR)")


def settings_of(args: argparse.Namespace) -> ReportingSettings:
    """PARITY_* settings with the command line's overrides; PARITY_MONGODB_URL is required."""
    overrides = {
        key: value
        for key, value in (
            ("indicators_database", args.database),
            ("inspections_database", getattr(args, "inspections_database", None)),
            ("plans_dir", args.plans_dir),
        )
        if value is not None
    }
    return ReportingSettings(**overrides)


def make_report(args: argparse.Namespace) -> ReportFiles:
    settings = settings_of(args)
    plan = find_plan(settings, args.plan)
    as_of = args.as_of or local_date(SystemClock().now())
    records, recommendations = asyncio.run(
        read_history(settings, as_of, with_recommendations=not args.no_recommendations)
    )
    return write_report(
        plan,
        as_of,
        records,
        args.out,
        recommendations=recommendations,
        source=settings.indicators_database,
        pdf=args.pdf,
    )


def verdict(check: MilestoneCheck, decimals: int) -> str:
    if check.met is None:
        return NO_DATA
    return MET if check.met else f"{NOT_MET} {points(check.gap, decimals)}"


def figure_lines(files: ReportFiles) -> list[tuple[str, object]]:
    """The report's headline figures: each target at each scope unit, met or not."""
    report = files.report
    lines: list[tuple[str, object]] = [("HTML", files.html), ("XLSX annex", files.annex)]
    if files.pdf is not None:
        lines.append(("PDF", files.pdf))
    lines.append(("units in scope", len(report.units)))
    for row in report.targets:
        value = row.figure.value if row.figure else None
        targets = [c.target for c in row.milestones]  # shown as the page shows them
        decimals = decimals_for(value, targets)
        checks = "; ".join(
            f"{c.year} {percent(c.target)}: {verdict(c, decimals)}" for c in row.milestones
        )
        lines.append(
            (f"{row.scope_id} {label(row.indicator)}", f"{percent(value, targets)} ({checks})")
        )
    for scope in report.scope_ids:
        for indicator in (
            "ethnic_minority_female_leaders",
            "open_recommendations",
            "overdue_recommendations",
            "units_inspected_share_ytd",
        ):
            figure = report.figure(scope, indicator)
            shown = (
                "—"
                if figure is None
                else (percent(figure.value) if figure.denominator is not None else figure.numerator)
            )
            lines.append((f"{scope} {label(indicator)}", shown))
    return lines


def run(args: argparse.Namespace, output: Output) -> int:
    try:
        with output.busy("reading the indicator history"):
            files = make_report(args)
    except ValidationError as error:
        output.error(f"invalid PARITY_* settings: {error}")
        return EXIT_FAILED
    except (ReportError, PlanError, HistoryError) as error:
        output.error(str(error))
        return EXIT_FAILED
    except PyMongoError as error:
        output.error(f"cannot read the store: {error}")
        return EXIT_FAILED
    report = files.report
    output.summary(
        f"report {report.plan.id} as of {report.as_of.isoformat()} written", figure_lines(files)
    )
    return EXIT_OK


COMMAND = Command(
    name="report",
    help="a plan's annual report as of a date (HTML with charts, XLSX annex), in Vietnamese",
    configure=configure,
    run=run,
)
