"""The machine-readable contract under ``schemas/``, generated from the code.

``schemas/events/<type>.json`` is a JSON Schema (draft 2020-12) of the whole CloudEvent in
structured mode for every event type: the envelope attributes of
:class:`shared.envelope.CloudEvent` with ``type`` fixed and ``data`` replaced by the
payload's schema. ``schemas/asyncapi/<service>.json`` is an AsyncAPI document for every
service that registered one (see :func:`register_asyncapi`). The files are checked in; CI
runs ``python -m shared.schemas --check`` (and ``tests/unit/test_schemas.py``) so that they
never drift from the code. Regenerate them with ``make schemas``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from shared.asyncapi import service_documents
from shared.contract import EVENT_TYPES, INDICATORS_TOPIC, NOTIFICATIONS_TOPIC
from shared.envelope import RFC3339_WITH_OFFSET, STRUCTURED_CONTENT_TYPE, CloudEvent
from shared.outbound import (
    INDICATORS_EVENT_TYPE,
    NOTIFICATION_EVENT_TYPE,
    Notification,
    UnitIndicators,
)

if TYPE_CHECKING:
    from faststream.kafka import KafkaBroker

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_BASE_URI = "https://parity.example/schemas"
EVENTS_DIR = "events"
ASYNCAPI_DIR = "asyncapi"
ASYNCAPI_VERSION = "3.0.0"
REGENERATE_HINT = "run `make schemas` (python -m shared.schemas) and commit the result"


# Rules the payload models enforce in validators, which pydantic cannot put in a schema.
# "At least one of these fields, not null" (shared.contract: UnitUpdated, PersonUpdated).
_AT_LEAST_ONE_OF: dict[str, tuple[str, ...]] = {
    "hr.unit.updated": ("name", "parent_id", "level"),
    "hr.person.updated": ("gender", "ethnic_minority", "category", "birth_year"),
}
# Cross-field rules JSON Schema cannot express: stated in the description instead.
_NOTES: dict[str, str] = {
    "inspection.planned": "planned_end is not before planned_start.",
}

_OUTBOUND: tuple[tuple[str, str, type[BaseModel]], ...] = (
    (INDICATORS_EVENT_TYPE, INDICATORS_TOPIC, UnitIndicators),
    (NOTIFICATION_EVENT_TYPE, NOTIFICATIONS_TOPIC, Notification),
)


# --- JSON Schema per event type ------------------------------------------------------------


def _event_rows() -> list[tuple[str, str, type[BaseModel], str | None]]:
    """(type, topic, payload model, data field equal to the subject) for every event type."""
    rows: list[tuple[str, str, type[BaseModel], str | None]] = [
        (row.type, row.topic, row.payload, row.subject_field) for row in EVENT_TYPES.values()
    ]
    rows.extend((type_, topic, model, "unit_id") for type_, topic, model in _OUTBOUND)
    return rows


def _merge_defs(into: dict[str, Any], defs: dict[str, Any], event_type: str) -> None:
    for name, definition in defs.items():
        if name in into and into[name] != definition:
            raise ValueError(f"{event_type}: two different schemas are both named {name!r}")
        into[name] = definition


def _description(event_type: str, topic: str, subject_field: str | None) -> str:
    parts = [
        f"CloudEvents 1.0 event `{event_type}` on topic `{topic}`, structured mode "
        f"(`{STRUCTURED_CONTENT_TYPE}`). Unknown extra fields in `data` are ignored."
    ]
    if subject_field is not None:
        parts.append(f"`subject` equals `data.{subject_field}`.")
    if event_type in _NOTES:
        parts.append(_NOTES[event_type])
    return " ".join(parts)


def event_schema(
    event_type: str, topic: str, payload: type[BaseModel], subject_field: str | None
) -> dict[str, Any]:
    """The JSON Schema of one whole structured-mode CloudEvent of ``event_type``."""
    schema = CloudEvent.model_json_schema()
    defs: dict[str, Any] = dict(schema.pop("$defs", {}))
    data = payload.model_json_schema()
    _merge_defs(defs, data.pop("$defs", {}), event_type)
    if event_type in _AT_LEAST_ONE_OF:
        data["anyOf"] = [
            {"required": [field], "properties": {field: {"not": {"type": "null"}}}}
            for field in _AT_LEAST_ONE_OF[event_type]
        ]
    properties: dict[str, Any] = schema["properties"]
    properties["type"] = {"const": event_type, "title": "Type", "type": "string"}
    properties["time"] = {**properties["time"], "pattern": RFC3339_WITH_OFFSET}
    properties["data"] = data
    schema.update(
        {
            "$schema": SCHEMA_DIALECT,
            "$id": f"{SCHEMA_BASE_URI}/{EVENTS_DIR}/{event_type}.json",
            "title": event_type,
            "description": _description(event_type, topic, subject_field),
            "x-parity-topic": topic,
        }
    )
    if defs:
        schema["$defs"] = defs
    return schema


def event_schemas() -> dict[str, dict[str, Any]]:
    """A JSON Schema per event type, inbound (``EVENT_TYPES``) and outbound."""
    return {row[0]: event_schema(*row) for row in _event_rows()}


# --- AsyncAPI per service: the extension point ---------------------------------------------
#
# A service registers a factory that builds its AsyncAPI document, typically
#     register_asyncapi("personnel", lambda: asyncapi_document(build_broker(...), ...))
# in a module listed in SERVICE_SCHEMA_MODULES (imported before generating or checking).
# The factory must not connect to anything and must be deterministic: build the broker with
# fixed bootstrap servers, not ones read from the environment, or the check will flap.

AsyncAPIFactory = Callable[[], dict[str, Any]]

#: Modules that call :func:`register_asyncapi` when imported, e.g. "services.personnel.app".
SERVICE_SCHEMA_MODULES: tuple[str, ...] = ()

_SERVICE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_asyncapi_factories: dict[str, AsyncAPIFactory] = {}


def register_asyncapi(service_name: str, factory: AsyncAPIFactory) -> None:
    """Have ``schemas/asyncapi/<service_name>.json`` generated from ``factory()``."""
    if not _SERVICE_NAME.match(service_name):
        raise ValueError(f"service name {service_name!r} is not a lowercase file-safe name")
    existing = _asyncapi_factories.get(service_name)
    if existing is not None and existing is not factory:
        raise ValueError(f"an AsyncAPI factory is already registered for {service_name!r}")
    _asyncapi_factories[service_name] = factory


def unregister_asyncapi(service_name: str) -> None:
    _asyncapi_factories.pop(service_name, None)


def load_service_registrations() -> None:
    for module in SERVICE_SCHEMA_MODULES:
        importlib.import_module(module)


def asyncapi_document(
    broker: KafkaBroker, title: str, version: str, description: str | None = None
) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of ``broker``'s subscribers and publishers, as a dict.

    FastStream builds it from the registered handlers without connecting to Kafka.
    """
    from faststream.specification import AsyncAPI

    factory = AsyncAPI(
        broker,
        title=title,
        version=version,
        description=description,
        schema_version=ASYNCAPI_VERSION,
    )
    document = factory.to_specification().to_jsonable()
    if not isinstance(document, dict):
        raise TypeError(f"AsyncAPI document of {title!r} is not a JSON object")
    return document


def asyncapi_documents() -> dict[str, dict[str, Any]]:
    """The four services' documents (``shared/asyncapi.py``) and any registered one."""
    load_service_registrations()
    documents = service_documents(event_schema)
    documents.update((name, factory()) for name, factory in _asyncapi_factories.items())
    return dict(sorted(documents.items()))


# --- files ---------------------------------------------------------------------------------


def render(document: dict[str, Any]) -> str:
    """The checked-in text of a document: sorted keys, indent 2, UTF-8, trailing newline."""
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def generated_files() -> dict[str, str]:
    """Every generated file, as (path relative to the schemas directory) -> text."""
    files = {f"{EVENTS_DIR}/{t}.json": render(s) for t, s in event_schemas().items()}
    files.update(
        {f"{ASYNCAPI_DIR}/{name}.json": render(doc) for name, doc in asyncapi_documents().items()}
    )
    return dict(sorted(files.items()))


def _existing_files(directory: Path) -> set[str]:
    found: set[str] = set()
    for sub in (EVENTS_DIR, ASYNCAPI_DIR):
        if (directory / sub).is_dir():
            found.update(f"{sub}/{p.name}" for p in (directory / sub).iterdir() if p.is_file())
    return found


def write_schemas(directory: Path) -> list[Path]:
    """Write every generated file under ``directory`` and remove stale ones; the written."""
    expected = generated_files()
    for stale in sorted(_existing_files(directory) - expected.keys()):
        (directory / stale).unlink()
    written: list[Path] = []
    for relative, text in expected.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="\n") as file:
            file.write(text)
        written.append(path)
    return written


def _read(path: Path) -> str | None:
    try:
        with path.open(encoding="utf-8", newline="") as file:
            return file.read()
    except (OSError, UnicodeDecodeError):
        return None


def check_schemas(directory: Path) -> list[str]:
    """The files under ``directory`` that are missing, changed or extra; empty when in sync."""
    expected = generated_files()
    differing = [rel for rel, text in expected.items() if _read(directory / rel) != text]
    differing.extend(_existing_files(directory) - expected.keys())
    return sorted(str(directory / rel) for rel in differing)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shared.schemas",
        description="Generate (or check) the JSON Schemas and AsyncAPI documents in schemas/.",
    )
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 on drift")
    parser.add_argument("--dir", type=Path, default=Path("schemas"), help="default: schemas")
    args = parser.parse_args(argv)
    directory: Path = args.dir
    if args.check:
        differing = check_schemas(directory)
        if differing:
            print("schemas differ from the code:", file=sys.stderr)
            for path in differing:
                print(f"  {path}", file=sys.stderr)
            print(REGENERATE_HINT, file=sys.stderr)
            return 1
        print(f"schemas in {directory} match the code")
        return 0
    written = write_schemas(directory)
    print(f"wrote {len(written)} files under {directory}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
