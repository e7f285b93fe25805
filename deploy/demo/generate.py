"""Write deploy/demo/lang-son-dolisa.jsonl: a demo province for ``parity demo``.

Sized like Lạng Sơn's Department of Labour, Invalids and Social Affairs (Sở Lao động -
Thương binh và Xã hội): the provincial root U-0001 "UBND tỉnh Lạng Sơn", the Department,
its divisions (phòng) and affiliated units (đơn vị sự nghiệp) with their own divisions, a
few hundred pseudonymous people, their positions, planning pools (quy hoạch) and
trainings from 2021 to 2025, and the Department's inspections with recommendations.

Deterministic: run it again and the file is byte for byte the same (event ids are UUID 5).
Run from the project root: ``python deploy/demo/generate.py``. The file is checked in.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from shared.clock import VIETNAM

OUT = Path(__file__).resolve().parent / "lang-son-dolisa.jsonl"
SOURCE_HR = "hrms/lang-son-demo"
SOURCE_INSPECTIONS = "inspections/lang-son-demo"
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://parity.invalid/demo/lang-son-dolisa")
EPOCH = datetime(2021, 1, 4, 8, 0, tzinfo=VIETNAM)
TRAININGS = (
    "political_theory",
    "state_management",
    "leadership",
    "professional",
    "it",
    "gender_equality",
    "foreign_language",
)

DEPARTMENT_DIVISIONS = (
    "Văn phòng Sở",
    "Thanh tra Sở",
    "Phòng Kế hoạch - Tài chính",
    "Phòng Lao động - Việc làm - Giáo dục nghề nghiệp",
    "Phòng Người có công",
    "Phòng Bảo trợ xã hội - Trẻ em - Bình đẳng giới",
    "Phòng Phòng, chống tệ nạn xã hội",
)
AFFILIATED = (
    (
        "Trung tâm Dịch vụ việc làm tỉnh Lạng Sơn",
        (
            "Phòng Hành chính - Tổng hợp",
            "Phòng Tư vấn - Giới thiệu việc làm",
            "Phòng Bảo hiểm thất nghiệp",
        ),
    ),
    (
        "Trung tâm Công tác xã hội tỉnh Lạng Sơn",
        ("Phòng Hành chính - Tổng hợp", "Phòng Công tác xã hội", "Phòng Chăm sóc đối tượng"),
    ),
    (
        "Cơ sở Cai nghiện ma túy tỉnh Lạng Sơn",
        ("Phòng Tổ chức - Hành chính", "Phòng Y tế - Phục hồi", "Phòng Giáo dục - Lao động"),
    ),
    (
        "Trung tâm Điều dưỡng người có công tỉnh Lạng Sơn",
        ("Phòng Hành chính - Tổng hợp", "Phòng Điều dưỡng"),
    ),
)


@dataclass
class Person:
    person_id: str
    unit_id: str
    female: bool
    left: bool = False
    positions: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Demo:
    rng: random.Random
    events: list[tuple[datetime, int, tuple[str, str, str, dict[str, Any]]]] = field(
        default_factory=list
    )
    sequences: dict[str, int] = field(default_factory=dict)
    people: list[Person] = field(default_factory=list)
    units: list[tuple[str, str, str | None]] = field(default_factory=list)  # id, level, parent

    def emit(
        self, source: str, type_: str, subject: str, time: datetime, data: dict[str, Any]
    ) -> None:
        self.events.append((time, len(self.events), (source, type_, subject, data)))

    def lines(self) -> list[str]:
        """The events in effective-time order, with per-subject sequences and stable ids."""
        found = []
        for time, _index, (source, type_, subject, data) in sorted(self.events):
            number = self.sequences.get(subject, 0) + 1
            self.sequences[subject] = number
            event = {
                "specversion": "1.0",
                "id": str(uuid.uuid5(NAMESPACE, f"{source}/{subject}/{number}/{type_}")),
                "source": source,
                "type": type_,
                "subject": subject,
                "time": time.isoformat(),
                "sequence": str(number),
                "datacontenttype": "application/json",
                "data": data,
            }
            found.append(json.dumps(event, ensure_ascii=False, separators=(",", ":")))
        return found

    def unit(self, name: str, level: str, parent: str | None) -> str:
        unit_id = f"U-{len(self.units) + 1:04d}"
        self.units.append((unit_id, level, parent))
        data = {"unit_id": unit_id, "name": name, "parent_id": parent, "level": level}
        self.emit(SOURCE_HR, "hr.unit.registered", unit_id, EPOCH, data)
        return unit_id

    def hire(self, unit_id: str, level: str, time: datetime, female_share: float) -> Person:
        person = Person(f"P-{len(self.people) + 1:05d}", unit_id, self.rng.random() < female_share)
        category = {"province": "cadre", "public_service_unit": "public_employee"}.get(
            level, "civil_servant"
        )
        if level == "division" and self.parent_level(unit_id) == "public_service_unit":
            category = "public_employee"
        data = {
            "person_id": person.person_id,
            "gender": "female" if person.female else "male",
            "ethnic_minority": self.rng.random() < 0.62,  # Tày, Nùng, Dao, ... in Lạng Sơn
            "category": category,
            "unit_id": unit_id,
            "birth_year": self.rng.randint(1966, 1998),
        }
        self.emit(SOURCE_HR, "hr.person.registered", person.person_id, time, data)
        self.people.append(person)
        return person

    def parent_level(self, unit_id: str) -> str | None:
        parent = next(p for u, _, p in self.units if u == unit_id)
        return next((lvl for u, lvl, _ in self.units if u == parent), None)

    def appoint(self, person: Person, unit_id: str, role: str, time: datetime) -> None:
        person.positions.append((unit_id, role))
        data = {
            "unit_id": unit_id,
            "role": role,
            "decision_no": f"{self.rng.randint(10, 999)}/QĐ-SLĐTBXH",
        }
        self.emit(SOURCE_HR, "hr.position.appointed", person.person_id, time, data)


def day(year: int, month: int, dom: int, hour: int = 9) -> datetime:
    return datetime(year, month, dom, hour, 0, tzinfo=VIETNAM)


def some_day(rng: random.Random, year: int) -> datetime:
    return day(year, 1, 5) + timedelta(days=rng.randint(0, 340), hours=rng.randint(0, 7))


def build(demo: Demo) -> None:
    rng = demo.rng
    root = demo.unit("UBND tỉnh Lạng Sơn", "province", None)
    department = demo.unit("Sở Lao động - Thương binh và Xã hội", "agency", root)
    divisions = [demo.unit(n, "division", department) for n in DEPARTMENT_DIVISIONS]
    for name, faculties in AFFILIATED:
        centre = demo.unit(name, "public_service_unit", department)
        divisions += [demo.unit(n, "division", centre) for n in faculties]
    hired = EPOCH + timedelta(hours=1)
    staff: dict[str, list[Person]] = {}
    for unit_id, level, _ in demo.units:
        size = {"province": 4, "agency": 8, "public_service_unit": 6}.get(level, rng.randint(8, 16))
        staff[unit_id] = [demo.hire(unit_id, level, hired, 0.52) for _ in range(size)]
    leaders_at = EPOCH + timedelta(hours=3)
    # Go-live: a head in every unit, deputies; some divisions have no woman among them yet.
    for unit_id, level, _ in demo.units:
        people = sorted(staff[unit_id], key=lambda p: (p.female, rng.random()))
        keys = 1 + (2 if level in ("province", "agency") else 1)
        for n, person in enumerate(people[-keys:] if rng.random() < 0.6 else people[:keys]):
            demo.appoint(person, unit_id, "head" if n == 0 else "deputy_head", leaders_at)
    # Planning pools (quy hoạch) 2021-2026 for every division, reviewed in 2023.
    pooled: list[Person] = []
    for unit_id in divisions:
        candidates = [p for p in staff[unit_id] if not p.positions]
        rng.shuffle(candidates)
        for person in candidates[: rng.randint(2, 4)]:
            data = {
                "unit_id": unit_id,
                "role": rng.choice(("head", "deputy_head")),
                "period": "2021-2026",
            }
            demo.emit(SOURCE_HR, "hr.planning.added", person.person_id, leaders_at, data)
            pooled.append(person)
    for year in (2023, 2024, 2025):
        for unit_id in divisions:  # each year women join the pools and the leadership
            women = [p for p in staff[unit_id] if p.female and not p.positions and not p.left]
            if women and rng.random() < 0.55:
                person = rng.choice(women)
                data = {"unit_id": unit_id, "role": "deputy_head", "period": "2026-2031"}
                demo.emit(
                    SOURCE_HR, "hr.planning.added", person.person_id, some_day(rng, year), data
                )
                pooled.append(person)
            if women and rng.random() < 0.25 and year >= 2024:
                demo.appoint(rng.choice(women), unit_id, "deputy_head", some_day(rng, year))
        for person in rng.sample(pooled, k=len(pooled) // 3):
            if person.left:
                continue
            course = rng.choice(TRAININGS)
            data = {"course_id": f"{course}-{year}", "category": course}
            demo.emit(
                SOURCE_HR, "hr.training.completed", person.person_id, some_day(rng, year), data
            )
        for person in rng.sample([p for p in demo.people if not p.left], k=4):  # retirements
            person.left = True
            demo.emit(
                SOURCE_HR,
                "hr.person.left",
                person.person_id,
                day(year, 12, 20),
                {"reason": "retired"},
            )
    inspections(demo, divisions)


def inspections(demo: Demo, divisions: list[str]) -> None:
    rng = demo.rng
    for year in (2023, 2024, 2025):
        for n in range(2):
            inspection_id = f"TTS-{year}-{n + 1:02d}"
            covered = rng.sample(divisions, k=4)
            start = date(year, 4 + 4 * n, 10)
            planned = day(year, 2 + 4 * n, 20)
            data = {
                "inspection_id": inspection_id,
                "title": f"Kiểm tra thực hiện công tác bình đẳng giới năm {year}, đợt {n + 1}",
                "kind": "examination",
                "scope": ["planning", "appointment", "training"],
                "unit_ids": covered,
                "lead_unit_id": divisions[1],
                "inter_sectoral": False,
                "planned_start": start.isoformat(),
                "planned_end": (start + timedelta(days=20)).isoformat(),
            }
            demo.emit(SOURCE_INSPECTIONS, "inspection.planned", inspection_id, planned, data)
            begun = datetime.combine(start, datetime.min.time(), VIETNAM) + timedelta(hours=8)
            demo.emit(SOURCE_INSPECTIONS, "inspection.started", inspection_id, begun, {})
            for k, unit_id in enumerate(covered[:2]):
                finding, recommendation = f"F-{k + 1}", f"R-{k + 1}"
                when = begun + timedelta(days=5 + k)
                demo.emit(
                    SOURCE_INSPECTIONS,
                    "inspection.finding_recorded",
                    inspection_id,
                    when,
                    {
                        "finding_id": finding,
                        "unit_id": unit_id,
                        "severity": "minor",
                        "topic": "planning",
                        "summary": "Tỷ lệ nữ trong quy hoạch chưa đạt mục tiêu",
                    },
                )
                due = (when + timedelta(days=120)).date()
                demo.emit(
                    SOURCE_INSPECTIONS,
                    "inspection.recommendation_issued",
                    inspection_id,
                    when,
                    {
                        "recommendation_id": recommendation,
                        "unit_id": unit_id,
                        "finding_id": finding,
                        "due": due.isoformat(),
                        "summary": "Bổ sung nữ vào quy hoạch lãnh đạo cấp phòng",
                    },
                )
                if year < 2025 or rng.random() < 0.3:
                    demo.emit(
                        SOURCE_INSPECTIONS,
                        "inspection.recommendation_resolved",
                        inspection_id,
                        when + timedelta(days=rng.randint(30, 150)),
                        {"recommendation_id": recommendation, "resolution": "Đã bổ sung quy hoạch"},
                    )
            demo.emit(
                SOURCE_INSPECTIONS,
                "inspection.closed",
                inspection_id,
                begun + timedelta(days=25),
                {"conclusion": "Đã kết luận kiểm tra"},
            )


def render() -> str:
    """The demo file's text (pure: the same text on every run)."""
    demo = Demo(random.Random(2022))
    build(demo)
    return "\n".join(demo.lines()) + "\n"


def main() -> None:
    text = render()
    OUT.write_text(text, encoding="utf-8")
    print(f"{OUT}: {text.count(chr(10))} events, {len(text.encode())} bytes")


if __name__ == "__main__":
    main()
