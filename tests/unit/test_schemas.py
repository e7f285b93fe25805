"""The checked-in schemas/ equal what the code generates (the CI check), and they say what
the decoder does: each accepts a valid event and rejects invalid ones."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from faststream.kafka import KafkaBroker
from pydantic import BaseModel, ValidationError

from shared import schemas
from shared.asyncapi import SERVICES
from shared.contract import EVENT_TYPES
from shared.outbound import Notification, UnitIndicators
from tests.samples import ALL_TYPES, UNIT_ID, sample_event, sample_payload

REPO_SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
MODELS: dict[str, type[BaseModel]] = {
    **{t: row.payload for t, row in EVENT_TYPES.items()},
    "parity.unit.indicators": UnitIndicators,
    "parity.notification": Notification,
}


@pytest.fixture(scope="module")
def generated() -> dict[str, dict[str, Any]]:
    return schemas.event_schemas()


def validator(schema: dict[str, Any]) -> Any:
    return jsonschema.Draft202012Validator(schema)


def is_valid(schema: dict[str, Any], instance: Any) -> bool:
    return bool(validator(schema).is_valid(instance))


def model_accepts(event_type: str, data: dict[str, Any]) -> bool:
    try:
        MODELS[event_type].model_validate(data)
    except ValidationError:
        return False
    return True


# --- the CI check ----------------------------------------------------------------------------


def test_checked_in_schemas_equal_the_generated_ones() -> None:
    assert schemas.check_schemas(REPO_SCHEMAS) == [], schemas.REGENERATE_HINT


def test_there_is_one_schema_per_event_type(generated: dict[str, dict[str, Any]]) -> None:
    assert set(generated) == set(ALL_TYPES)
    names = {p.name for p in (REPO_SCHEMAS / "events").iterdir()}
    assert names == {f"{t}.json" for t in ALL_TYPES}


def test_write_then_check_is_clean_and_deterministic(tmp_path: Path) -> None:
    written = schemas.write_schemas(tmp_path)
    assert len(written) == len(ALL_TYPES) + len(SERVICES)
    first = {p: p.read_bytes() for p in written}
    assert schemas.check_schemas(tmp_path) == []
    schemas.write_schemas(tmp_path)
    assert {p: p.read_bytes() for p in written} == first
    text = (tmp_path / "events" / "hr.unit.registered.json").read_text(encoding="utf-8")
    assert text.endswith("}\n")
    assert json.loads(text) == schemas.event_schemas()["hr.unit.registered"]
    assert text.index('"$defs"') < text.index('"properties"')  # sorted keys


def test_check_finds_changed_missing_and_extra_files(tmp_path: Path) -> None:
    schemas.write_schemas(tmp_path)
    changed = tmp_path / "events" / "hr.unit.merged.json"
    changed.write_text(changed.read_text(encoding="utf-8").replace("into_unit_id", "into_id"))
    missing = tmp_path / "events" / "inspection.closed.json"
    missing.unlink()
    extra = tmp_path / "events" / "hr.unit.renamed.json"
    extra.write_text("{}\n")
    assert schemas.check_schemas(tmp_path) == sorted(str(p) for p in (changed, missing, extra))
    schemas.write_schemas(tmp_path)
    assert not extra.exists()
    assert schemas.check_schemas(tmp_path) == []


def test_check_of_an_empty_directory_lists_every_file(tmp_path: Path) -> None:
    assert len(schemas.check_schemas(tmp_path / "nothing")) == len(ALL_TYPES) + len(SERVICES)


def test_cli_check_exits_1_with_a_hint_then_0_after_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert schemas.main(["--check", "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "make schemas" in err
    assert str(tmp_path / "events" / "hr.unit.registered.json") in err
    assert schemas.main(["--dir", str(tmp_path)]) == 0
    assert schemas.main(["--check", "--dir", str(tmp_path)]) == 0


# --- what each schema says -------------------------------------------------------------------


@pytest.mark.parametrize("event_type", ALL_TYPES)
def test_schema_is_a_valid_2020_12_schema(
    event_type: str, generated: dict[str, dict[str, Any]]
) -> None:
    schema = generated[event_type]
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://parity.example/schemas/events/{event_type}.json"
    assert schema["properties"]["type"]["const"] == event_type


@pytest.mark.parametrize("event_type", ALL_TYPES)
def test_schema_accepts_a_valid_event(
    event_type: str, generated: dict[str, dict[str, Any]]
) -> None:
    schema = generated[event_type]
    validator(schema).validate(sample_event(event_type))
    event = sample_event(event_type, time="2026-03-02T02:30:00Z", traceparent="00-ab-cd-01")
    del event["sequence"], event["datacontenttype"]
    event["data"]["x_future_field"] = "ignored"
    validator(schema).validate(event)


@pytest.mark.parametrize("event_type", ALL_TYPES)
def test_schema_rejects_an_invalid_envelope(
    event_type: str, generated: dict[str, dict[str, Any]]
) -> None:
    schema = generated[event_type]
    other_type = "hr.unit.dissolved" if event_type != "hr.unit.dissolved" else "hr.unit.merged"
    invalid: list[dict[str, Any]] = [
        sample_event(event_type, type=other_type),
        sample_event(event_type, specversion="0.3"),
        sample_event(event_type, time="2026-03-02T09:30:00"),  # naive
        sample_event(event_type, id="a" * 129),
        sample_event(event_type, id="sự-kiện"),
        sample_event(event_type, subject="U 1"),
        sample_event(event_type, sequence="4a"),
        sample_event(event_type, data=[]),
    ]
    for attribute in ("specversion", "id", "source", "type", "subject", "time", "data"):
        event = sample_event(event_type)
        del event[attribute]
        invalid.append(event)
    for event in invalid:
        assert not is_valid(schema, event), event


@pytest.mark.parametrize("event_type", ALL_TYPES)
def test_schema_rejects_data_missing_a_required_field(
    event_type: str, generated: dict[str, dict[str, Any]]
) -> None:
    fields = MODELS[event_type].model_fields
    required = [name for name, field in fields.items() if field.is_required()]
    for name in required:
        event = sample_event(event_type)
        del event["data"][name]
        assert not is_valid(generated[event_type], event), name
        assert not model_accepts(event_type, event["data"])


@pytest.mark.parametrize("event_type", ALL_TYPES)
def test_schema_and_model_agree_on_the_least_data(
    event_type: str, generated: dict[str, dict[str, Any]]
) -> None:
    """Only the required fields: the schema accepts exactly where the model does."""
    fields = MODELS[event_type].model_fields
    data = {k: v for k, v in sample_payload(event_type).items() if fields[k].is_required()}
    event = sample_event(event_type, data=data)
    assert is_valid(generated[event_type], event) == model_accepts(event_type, data)


@pytest.mark.parametrize(
    ("event_type", "data", "valid"),
    [
        ("hr.unit.updated", {"unit_id": UNIT_ID}, False),
        ("hr.unit.updated", {"unit_id": UNIT_ID, "name": None}, False),
        ("hr.unit.updated", {"unit_id": UNIT_ID, "level": "agency"}, True),
        ("hr.person.updated", {}, False),
        ("hr.person.updated", {"ethnic_minority": False}, True),
        ("hr.unit.dissolved", {"unit_id": "U" * 64}, True),
        ("hr.unit.dissolved", {"unit_id": "U" * 65}, False),
        ("hr.unit.dissolved", {"unit_id": "Ü-1"}, False),
        ("hr.person.left", {"reason": "fired"}, False),
        ("hr.person.registered", {**sample_payload("hr.person.registered"), "gender": "x"}, False),
        ("inspection.planned", {**sample_payload("inspection.planned"), "scope": []}, False),
        ("parity.notification", {**sample_payload("parity.notification"), "severity": "x"}, False),
        (
            "parity.unit.indicators",
            {**sample_payload("parity.unit.indicators"), "version": 0},
            False,
        ),
    ],
)
def test_schema_and_model_agree_on_data(
    event_type: str, data: dict[str, Any], valid: bool, generated: dict[str, dict[str, Any]]
) -> None:
    assert model_accepts(event_type, data) is valid
    assert is_valid(generated[event_type], sample_event(event_type, data=data)) is valid


@pytest.mark.parametrize(("length", "valid"), [(200, True), (201, False)])
def test_name_length(length: int, valid: bool, generated: dict[str, dict[str, Any]]) -> None:
    event = sample_event("hr.unit.registered")
    event["data"]["name"] = "ạ" * length
    assert is_valid(generated["hr.unit.registered"], event) is valid
    assert model_accepts("hr.unit.registered", event["data"]) is valid


# --- AsyncAPI: the extension point -----------------------------------------------------------


class _Command(BaseModel):
    unit_id: str


class _Status(BaseModel):
    unit_id: str
    open_recommendations: int


def _service_broker() -> KafkaBroker:
    broker = KafkaBroker("kafka.example:9092")
    publisher = broker.publisher("inspection-status.v1", title="inspection-status", schema=_Status)

    @broker.subscriber("inspections.v1", group_id="inspections")
    @publisher
    async def on_inspection(command: _Command) -> _Status:  # pragma: no cover - never run
        return _Status(unit_id=command.unit_id, open_recommendations=0)

    return broker


def _document() -> dict[str, Any]:
    return schemas.asyncapi_document(_service_broker(), title="inspections", version="0.1.0")


@pytest.fixture
def registered() -> Iterator[str]:
    schemas.register_asyncapi("inspections-test", _document)
    yield "inspections-test"
    schemas.unregister_asyncapi("inspections-test")


def test_asyncapi_document_of_a_broker() -> None:
    document = _document()
    assert document["asyncapi"] == "3.0.0"
    assert document["info"] == {"title": "inspections", "version": "0.1.0"}
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {"inspections.v1", "inspection-status.v1"}
    actions = sorted(operation["action"] for operation in document["operations"].values())
    assert actions == ["receive", "send"]
    assert set(document["components"]["schemas"]) >= {"_Command", "_Status"}
    assert schemas.render(document) == schemas.render(_document())  # deterministic


def test_registered_asyncapi_is_written_and_checked(registered: str, tmp_path: Path) -> None:
    written = schemas.write_schemas(tmp_path)
    path = tmp_path / "asyncapi" / f"{registered}.json"
    assert path in written
    assert json.loads(path.read_text(encoding="utf-8"))["asyncapi"] == "3.0.0"
    assert schemas.check_schemas(tmp_path) == []
    schemas.unregister_asyncapi(registered)
    assert schemas.check_schemas(tmp_path) == [str(path)]  # now an extra file


def test_register_asyncapi_rejects_bad_names_and_duplicates(registered: str) -> None:
    with pytest.raises(ValueError, match="file-safe"):
        schemas.register_asyncapi("../etc", _document)
    with pytest.raises(ValueError, match="already registered"):
        schemas.register_asyncapi(registered, lambda: {})
    schemas.register_asyncapi(registered, _document)  # the same factory again is harmless


def test_every_service_has_an_asyncapi_document_naming_its_topics() -> None:
    for service, (consumes, publishes) in SERVICES.items():
        text = (REPO_SCHEMAS / "asyncapi" / f"{service}.json").read_text(encoding="utf-8")
        document = json.loads(text)
        assert document["asyncapi"] == "3.0.0"
        actions = {(op["action"], op["channel"]["$ref"].split("/")[-1])
                   for op in document["operations"].values()}  # fmt: skip
        assert {("receive", t) for t in consumes} | {("send", t) for t in publishes} <= actions
        for message in document["components"]["messages"].values():
            reference = message.get("payload", {}).get("$ref")
            if reference is not None:  # a contract event: its schema file exists
                assert (REPO_SCHEMAS / "asyncapi" / reference).resolve().is_file()
