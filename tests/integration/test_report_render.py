"""The report's HTML as a browser renders it: headless Chromium (deploy/chromium.sh installs
it when missing; ``make test`` runs that first).

A five-year history of the demo plan's scope (pure values) becomes the report page; Chromium
loads it from a file. Its DOM must hold every chart as SVG, each trend line with one point
per year at the right height, and its screenshot must show the lines' colour: a page whose
charts the browser did not draw fails.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from services.reporting.annual import build_report, plan_indicators
from services.reporting.charts import PALETTE
from services.reporting.history import Figure, UnitStatus
from services.reporting.page import render
from shared.plans import load_plans

PLANS = Path(__file__).resolve().parents[2] / "deploy" / "plans"
YEARS = (2021, 2022, 2023, 2024, 2025)
UNITS = {
    "U-0001": ("UBND tỉnh Lạng Sơn", "province", None),
    "U-0002": ("Sở Lao động - Thương binh và Xã hội", "agency", "U-0001"),
    "U-0003": ("Văn phòng Sở", "division", "U-0002"),
    "U-0004": ("Thanh tra Sở", "division", "U-0002"),
}
TIMEOUT_S = 120  # a guard against a hung browser, not an assertion


def history() -> list[UnitStatus]:
    """Every unit recorded once a year; the scope's shares climb 2/10, 3/10, ... 6/10."""
    indicators = plan_indicators(next(p for p in load_plans(PLANS) if p.id == PLAN_ID))
    found = []
    for version, year in enumerate(YEARS, start=1):
        figures = {i: Figure((version + 1) / 10, version + 1, 10) for i in indicators}
        for unit_id, (name, level, parent) in UNITS.items():
            when = datetime(year, 12, 31, 10, tzinfo=UTC)
            found.append(UnitStatus(unit_id, version, when, name, level, parent, True, figures))
    return found


PLAN_ID = "lang-son-dolisa-2022"


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.fail("chromium is not installed: deploy/chromium.sh installs it")
    return found


def headless(page: Path, *options: str) -> str:
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", *options, page.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def png_pixels(path: Path) -> tuple[int, int, list[tuple[int, ...]]]:
    """Width, height and RGB pixels of an 8-bit, non-interlaced RGB(A) PNG (what Chromium
    writes); undoes the scanline filters of the PNG specification."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks, header = 8, b"", b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind, body = data[position + 4 : position + 8], data[position + 8 : position + 8 + length]
        header = body if kind == b"IHDR" else header
        chunks += body if kind == b"IDAT" else b""
        position += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, interlace) == (8, 0), (depth, interlace)
    assert colour in (2, 6), colour
    step = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(chunks), width * step
    previous, pixels = bytearray(stride), list[tuple[int, ...]]()
    for row in range(height):
        kind, line = (
            raw[row * (stride + 1)],
            bytearray(raw[row * (stride + 1) + 1 : (row + 1) * (stride + 1)]),
        )
        for i in range(stride):
            left = line[i - step] if i >= step else 0
            up, corner = previous[i], previous[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                guess = left + up - corner
                near = min(
                    (abs(guess - left), 0, left),
                    (abs(guess - up), 1, up),
                    (abs(guess - corner), 2, corner),
                )
                line[i] = (line[i] + near[2]) & 0xFF
        pixels.extend(tuple(line[i : i + 3]) for i in range(0, stride, step))
        previous = line
    return width, height, pixels


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    plan = next(p for p in load_plans(PLANS) if p.id == PLAN_ID)
    report = build_report(plan, date(2025, 12, 31), history())
    assert report.years == YEARS
    path = tmp_path_factory.mktemp("render") / "report.html"
    path.write_text(render(report), encoding="utf-8")
    return path


def test_the_rendered_dom_holds_every_chart_with_a_point_per_year(page: Path) -> None:
    source = page.read_text(encoding="utf-8")
    dom = headless(page, "--dump-dom")
    assert dom.count("<svg") == source.count("<svg") > 0
    lines = [points.split() for points in re.findall(r'<polyline points="([^"]*)"', dom)]
    indicators = plan_indicators(next(p for p in load_plans(PLANS) if p.id == PLAN_ID))
    assert len(lines) == len(indicators)  # one scope: one line per trend chart
    for points in lines:
        heights = [float(p.split(",")[1]) for p in points]
        assert len(points) == len(YEARS)
        assert heights == sorted(heights, reverse=True)  # the shares climb: y goes up
        assert len(set(heights)) == len(YEARS)
    for year in YEARS[:-1]:
        assert f">{year}</text>" in dom


def test_the_screenshot_shows_the_trend_lines(page: Path) -> None:
    shot = page.with_suffix(".png")
    headless(page, "--hide-scrollbars", "--window-size=900,1400", f"--screenshot={shot}")
    width, height, pixels = png_pixels(shot)
    assert (width, height) == (900, 1400)
    colours = Counter(pixels)
    red, green, blue = (int(PALETTE[0][i : i + 2], 16) for i in (1, 3, 5))
    line = (red, green, blue)
    assert colours[line] > 300  # the trend lines and their points, drawn
    assert colours[(255, 255, 255)] < len(pixels) * 0.97  # not a blank page
