"""The checked-in demo province: what deploy/demo/generate.py writes, every line valid."""

from __future__ import annotations

import json
from types import ModuleType

from services.kit.commands.demo import DEMO_FILE
from services.kit.lines import check_line
from services.kit.records import OutboundRecord
from tests.deploy_scripts import load_script


def generator() -> ModuleType:
    return load_script("demo/generate.py", "demo_generate")


def test_the_checked_in_file_is_what_the_generator_writes() -> None:
    assert DEMO_FILE.read_text(encoding="utf-8") == generator().render()


def test_every_line_is_an_event_the_consumers_accept_and_the_province_is_lang_son() -> None:
    content = DEMO_FILE.read_bytes()
    assert len(content) < 2 * 1024 * 1024
    lines = content.splitlines()
    checked = [check_line(n, line) for n, line in enumerate(lines, start=1)]
    assert all(isinstance(c, OutboundRecord) for c in checked)
    events = [json.loads(line) for line in lines]
    assert len({(e["source"], e["id"]) for e in events}) == len(events)
    units = {e["subject"]: e["data"] for e in events if e["type"] == "hr.unit.registered"}
    roots = [u for u, d in units.items() if d["parent_id"] is None]
    assert roots == ["U-0001"]
    assert units["U-0001"]["name"] == "UBND tỉnh Lạng Sơn"
    department = [u for u, d in units.items() if d["parent_id"] == "U-0001"]
    assert [units[u]["name"] for u in department] == ["Sở Lao động - Thương binh và Xã hội"]
    people = {e["subject"] for e in events if e["type"] == "hr.person.registered"}
    assert 200 <= len(people) < 1000
