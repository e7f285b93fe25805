"""Producing the report and the export: read the store (async), compute and write files.

The only part of the package with I/O besides :mod:`services.reporting.source`; the
``parity report`` and ``parity export`` commands call these.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from services.reporting.annex import write_annex
from services.reporting.annual import AnnualReport, build_report
from services.reporting.history import UnitStatus, end_of_day, snapshot
from services.reporting.opendata import ExportRow, export_rows, write_csv, write_xlsx
from services.reporting.page import render
from services.reporting.settings import ReportingSettings
from services.reporting.source import HistorySource, Recommendation, RecommendationSource
from shared.plans import Plan, load_plans
from shared.store import database, make_mongo_client

FORMATS = ("csv", "xlsx")


class ReportError(Exception):
    """The report or export cannot be made (unknown plan, no history, ...): a clear message."""


@dataclass(frozen=True)
class ReportFiles:
    report: AnnualReport
    html: Path
    annex: Path
    pdf: Path | None = None


def find_plan(settings: ReportingSettings, plan_id: str) -> Plan:
    plans = {p.id: p for p in load_plans(settings.plans_dir)}
    if plan_id not in plans:
        known = ", ".join(sorted(plans)) or "none"
        raise ReportError(f"no plan {plan_id!r} in {settings.plans_dir} (known: {known})")
    return plans[plan_id]


async def read_history(
    settings: ReportingSettings, as_of: date, *, with_recommendations: bool
) -> tuple[list[UnitStatus], list[Recommendation] | None]:
    """History records before the end of ``as_of`` (and the recommendations issued by then)."""
    client = make_mongo_client(settings.mongodb_url.get_secret_value(), app_name="report")
    try:
        history = HistorySource(database(client, settings.indicators_database))
        records = await history.records_before(end_of_day(as_of))
        recommendations = None
        if with_recommendations:
            source = RecommendationSource(database(client, settings.inspections_database))
            recommendations = await source.issued_before(end_of_day(as_of))
    finally:
        await client.close()
    return records, recommendations


def write_report(
    plan: Plan,
    as_of: date,
    records: Sequence[UnitStatus],
    out: Path,
    *,
    recommendations: Sequence[Recommendation] | None,
    source: str,
    pdf: bool = False,
) -> ReportFiles:
    report = build_report(plan, as_of, records, recommendations=recommendations)
    missing = [s for s in report.scope_ids if s not in report.tree.units]
    if missing or not report.scope_ids:
        raise ReportError(
            f"no active unit {', '.join(missing) or '(any root)'} in the indicator history of "
            f"{source} as of the end of {as_of.isoformat()}"
        )
    stem = f"bao-cao-{plan.id}-{as_of.isoformat()}"
    html, annex = out / f"{stem}.html", out / f"{stem}-phu-luc.xlsx"
    printed = out / f"{stem}.pdf" if pdf else None
    page = render(report)
    with writing_into(out):
        out.mkdir(parents=True, exist_ok=True)
        html.write_text(page, encoding="utf-8")
        write_annex(report, annex)
        if printed is not None:
            write_pdf(page, printed)
    return ReportFiles(report, html, annex, printed)


@contextmanager
def writing_into(out: Path) -> Iterator[None]:
    """An output folder that cannot be made or written (a file of that name, no permission,
    a full disk) is a :class:`ReportError` naming it, not a traceback."""
    try:
        yield
    except OSError as error:
        raise ReportError(f"cannot write into {out}: {error}") from error


def write_pdf(page: str, path: Path) -> None:
    """The same page printed to PDF by WeasyPrint (imported here: it loads pango)."""
    import weasyprint

    weasyprint.HTML(string=page).write_pdf(path)


def write_export(
    year: int,
    records: Sequence[UnitStatus],
    out: Path,
    *,
    file_format: str,
    threshold: int,
    source: str,
) -> tuple[list[ExportRow], Path]:
    if file_format not in FORMATS:
        raise ReportError(f"unknown format {file_format!r} (one of {', '.join(FORMATS)})")
    rows = export_rows(year, snapshot(records, end_of_day(date(year, 12, 31))), threshold)
    if not rows:
        raise ReportError(f"no active unit in the indicator history of {source} by {year}-12-31")
    path = out / f"parity-indicators-{year}.{file_format}"
    with writing_into(out):
        out.mkdir(parents=True, exist_ok=True)
        if file_format == "csv":
            write_csv(rows, path)
        else:
            write_xlsx(rows, path, threshold=threshold)
    return rows, path
