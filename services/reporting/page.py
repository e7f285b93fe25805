"""The annual report as one self-contained HTML page in Vietnamese (charts inline as SVG;
no script, no external resource). Pure: an :class:`AnnualReport` in, text out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from services.reporting.annual import AnnualReport, milestone_in_force
from services.reporting.charts import Reference, Series, bar_chart, line_chart
from services.reporting.history import Figure
from services.reporting.vocabulary import (
    MET,
    NO_DATA,
    NOT_MET,
    day_text,
    decimals_for,
    figure_text,
    is_count,
    label,
    level_label,
    percent,
    points,
)

STYLE = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; margin: 2em auto; max-width: 60em;
       color: #222; line-height: 1.4; }
h1 { font-size: 1.5em; text-align: center; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.8em 0; width: 100%; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.5em; vertical-align: top; }
th { background: #eef2f7; } td.n { text-align: right; white-space: nowrap; }
.met { color: #1e7d32; font-weight: bold; } .miss { color: #b71c1c; font-weight: bold; }
.meta { text-align: center; color: #555; } figure { margin: 1em 0; }
"""

INSPECTION_INDICATORS = (
    "units_inspected_share_ytd",
    "open_recommendations",
    "overdue_recommendations",
)


def render(report: AnnualReport) -> str:
    plan = report.plan
    scopes = ", ".join(report.status(s).name for s in report.scope_ids if s in report.tree.units)
    body = [
        f"<h1>Báo cáo kết quả thực hiện {escape(plan.title)}</h1>",
        f"<p class='meta'>{escape(plan.issued_by)} · Phạm vi: {escape(scopes or NO_DATA)} · "
        f"Số liệu tính đến hết ngày {day_text(report.as_of)}</p>",
        _targets(report),
        _trends(report),
        _shortfalls(report),
        _ethnic_minority(report),
        _inspections(report),
        _benchmarks(report),
        "<p class='meta'>Số liệu lấy từ lịch sử chỉ số của Parity: với mỗi đơn vị, bản ghi "
        "mới nhất được công bố trước khi hết ngày báo cáo (giờ Việt Nam).</p>",
    ]
    return (
        "<!DOCTYPE html>\n<html lang='vi'><head><meta charset='utf-8'>"
        f"<title>Báo cáo {escape(plan.id)} {report.as_of.isoformat()}</title>"
        f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>\n"
    )


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    lines = "".join(f"<tr>{''.join(cells)}</tr>" for cells in rows)
    return f"<table><tr>{head}</tr>{lines}</table>"


def _cell(text: str, *, number: bool = False, css: str = "") -> str:
    classes = " ".join(c for c in ("n" if number else "", css) if c)
    return f"<td class='{classes}'>{escape(text)}</td>" if classes else f"<td>{escape(text)}</td>"


def _ratio(figure: Figure | None) -> str:
    if figure is None:
        return NO_DATA
    if figure.denominator is None:
        return str(figure.numerator)
    return f"{figure.numerator}/{figure.denominator}"


def _targets(report: AnnualReport) -> str:
    if not report.targets:
        return "<h2>I. Kết quả thực hiện các chỉ tiêu</h2><p>Kế hoạch không đặt chỉ tiêu số.</p>"
    rows = []
    for row in report.targets:
        value = row.figure.value if row.figure else None
        targets = [check.target for check in row.milestones]  # one value, shown alike in each
        for check in row.milestones:
            verdict = NO_DATA if check.met is None else MET if check.met else NOT_MET
            rows.append(
                [
                    _cell(report.status(row.scope_id).name if row.figure else row.scope_id),
                    _cell(label(row.indicator)),
                    _cell(percent(value, targets), number=True),
                    _cell(_ratio(row.figure), number=True),
                    _cell(f"{check.year}{' (đã qua)' if check.past else ''}"),
                    _cell(percent(check.target), number=True),
                    _cell(verdict, css="met" if check.met else "miss"),
                    _cell(points(check.gap, decimals_for(value, targets)), number=True),
                ]
            )
    headers = ["Đơn vị", "Chỉ tiêu", "Kết quả", "Tử số/mẫu số", "Mốc", "Mục tiêu"]
    return "<h2>I. Kết quả thực hiện các chỉ tiêu</h2>" + _table(
        [*headers, "Đánh giá", "Còn thiếu"], rows
    )


def _year_labels(report: AnnualReport) -> list[str]:
    labels = [str(y) for y in report.years]
    labels[-1] = f"đến {report.as_of.day:02d}/{report.as_of.month:02d}/{report.as_of.year}"
    return labels


def _trend_chart(report: AnnualReport, indicator: str, title: str | None = None) -> str:
    series = [
        Series(
            report.status(s).name if s in report.tree.units else s, report.trends[(s, indicator)]
        )
        for s in report.scope_ids
    ]
    references = [
        Reference(f"Mục tiêu {year}: {percent(value)}", value)
        for year, value in sorted(report.plan.targets.get(indicator, {}).items())
    ]
    chart = line_chart(
        title or label(indicator),
        _year_labels(report),
        series,
        share=not is_count(indicator),
        references=references,
    )
    return f"<figure>{chart}</figure>"


def _trends(report: AnnualReport) -> str:
    charts = "".join(_trend_chart(report, i) for i in report.indicators)
    return (
        "<h2>II. Diễn biến qua các năm</h2><p>Giá trị tại thời điểm cuối mỗi năm; điểm cuối "
        f"là ngày báo cáo.</p>{charts}"
    )


def _shortfalls(report: AnnualReport) -> str:
    parts = ["<h2>III. Các đơn vị còn xa mục tiêu nhất</h2>"]
    for indicator, found in report.shortfalls.items():
        parts.append(f"<h3>{escape(label(indicator))}</h3>")
        if not found:
            parts.append("<p>Không có đơn vị nào dưới mục tiêu.</p>")
            continue
        rows = [
            [
                _cell(report.status(s.unit_id).name),
                _cell(level_label(report.status(s.unit_id).level)),
                _cell(_parent_name(report, s.unit_id)),
                _cell(percent(s.figure.value, [s.target]), number=True),
                _cell(_ratio(s.figure), number=True),
                _cell(f"{percent(s.target)} ({s.target_year})", number=True),
                _cell(
                    points(s.gap, decimals_for(s.figure.value, [s.target])),
                    number=True,
                    css="miss",
                ),
            ]
            for s in found
        ]
        headers = ["Đơn vị", "Cấp", "Trực thuộc", "Kết quả", "Tử số/mẫu số", "Mục tiêu"]
        parts.append(_table([*headers, "Còn thiếu"], rows))
    return "".join(parts)


def _parent_name(report: AnnualReport, unit_id: str) -> str:
    parent = report.status(unit_id).parent_id
    return report.status(parent).name if parent in report.tree.units else "—"


def _per_top_unit(report: AnnualReport, indicators: Sequence[str]) -> str:
    rows = []
    for scope in report.scope_ids:
        for unit_id in [scope, *report.top_units(scope)]:
            if unit_id not in report.tree.units:
                continue
            figures = [report.figure(unit_id, i) for i in indicators]
            rows.append(
                [_cell(report.status(unit_id).name)]
                + [
                    _cell(figure_text(i, f.value if f else None), number=True)
                    for i, f in zip(indicators, figures, strict=True)
                ]
            )
    return _table(["Đơn vị", *(label(i) for i in indicators)], rows)


def _ethnic_minority(report: AnnualReport) -> str:
    indicator = "ethnic_minority_female_leaders"
    return (
        "<h2>IV. Nữ lãnh đạo, quản lý là người dân tộc thiểu số</h2>"
        + _per_top_unit(report, [indicator])
        + _trend_chart(report, indicator)
    )


def _inspections(report: AnnualReport) -> str:
    parts = [
        "<h2>V. Thanh tra, kiểm tra và kiến nghị</h2>",
        _per_top_unit(report, INSPECTION_INDICATORS),
        _trend_chart(report, "units_inspected_share_ytd"),
        _trend_chart(report, "overdue_recommendations"),
    ]
    if report.recommendations is not None:
        rows = [
            [_cell(report.status(u).name)]
            + [
                _cell(str(n), number=True)
                for n in (tally.issued, tally.resolved, tally.open, tally.overdue)
            ]
            for scope in report.scope_ids
            for u in [scope, *report.top_units(scope)]
            if (tally := report.recommendations.get(u)) is not None
        ]
        parts.append(
            "<p>Kiến nghị đã ban hành đến ngày báo cáo, theo dữ liệu của dịch vụ thanh tra:</p>"
            + _table(["Đơn vị", "Đã ban hành", "Đã thực hiện", "Chưa thực hiện", "Quá hạn"], rows)
        )
    return "".join(parts)


def _benchmarks(report: AnnualReport) -> str:
    parts = [
        "<h2>VI. So sánh giữa các đơn vị</h2><p>Mỗi đơn vị so với các đơn vị cùng cấp, cùng "
        "trực thuộc (trung vị, thứ hạng) và với toàn phạm vi kế hoạch.</p>"
    ]
    for scope in report.scope_ids:
        tops = [u for u in report.top_units(scope) if u in report.tree.units]
        for indicator in report.indicators:
            scope_figure = report.figure(scope, indicator)
            references = []
            if scope_figure is not None and scope_figure.value is not None:
                scope_text = figure_text(indicator, scope_figure.value)
                references.append(Reference(f"Toàn phạm vi: {scope_text}", scope_figure.value))
            if indicator in report.plan.targets:  # as section III judges: the one in force
                milestones = report.plan.targets[indicator]
                year, value = milestone_in_force(milestones, report.as_of.year)
                references.append(Reference(f"Mục tiêu {year}: {percent(value)}", value))
            bars = [(report.status(u).name, _value(report, u, indicator)) for u in tops]
            chart = bar_chart(
                label(indicator), bars, share=not is_count(indicator), references=references
            )
            parts.append(f"<figure>{chart}</figure>")
    headers = ["Đơn vị", "Cấp"] + [
        f"{label(i)}: kết quả / trung vị cùng cấp / thứ hạng" for i in report.indicators
    ]
    rows = []
    for unit_id in report.units:
        if unit_id in report.scope_ids:
            continue
        status = report.status(unit_id)
        indent = "· " * (report.tree.depth(unit_id) - 1)
        cells = [_cell(indent + status.name), _cell(level_label(status.level))]
        for indicator in report.indicators:
            b = report.benchmarks[(unit_id, indicator)]
            rank = f"{b.rank}/{b.peers}" if b.rank is not None else "—"
            cells.append(
                _cell(
                    f"{figure_text(indicator, b.value)} / "
                    f"{figure_text(indicator, b.siblings_median)} / {rank}",
                    number=True,
                )
            )
        rows.append(cells)
    parts.append(_table(headers, rows))
    return "".join(parts)


def _value(report: AnnualReport, unit_id: str, indicator: str) -> float | None:
    figure = report.figure(unit_id, indicator)
    return None if figure is None else figure.value
