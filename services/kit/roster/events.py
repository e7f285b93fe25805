"""A roster's rows as the contract's events, with ids that depend only on what they state.

Pure. The id of an event is a UUID 5 over the source, the kind of fact and the fact's
identity (the unit; the person; person, unit and role of a position; ... ), never over the
import's time or the file's name: the same roster imported again yields the same
(``source``, ``id``) pairs, which every consumer recognises as redeliveries. Facts are
effective at ``--as-of``, except those with a date of their own (trainings, positions with an
appointment date: 00:00 of that date in Asia/Ho_Chi_Minh) and the registrations of units
and people, which take effect at the roster's epoch: ``--as-of``, or the earliest date the
published rows state if that is earlier, so that nobody is trained or appointed before
existing.
A person's events carry ``sequence`` 1, 2, ... so that equal times keep the roster's order.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

from services.kit.roster.people import PersonRow
from services.kit.roster.units import UnitRow
from shared.clock import VIETNAM
from shared.envelope import CloudEvent

ROSTER_IDS = uuid.UUID("6f1c1c36-93a4-5c5e-9d55-3f0f8a4c2b71")  # fixed forever: ids depend on it


def stable_id(source: str, kind: str, *identity: str) -> str:
    return str(uuid.uuid5(ROSTER_IDS, "\x1f".join((source, kind, *identity))))


def start_of_day(day: date) -> datetime:
    """A calendar date of the roster as an instant: its first moment in Vietnam."""
    return datetime.combine(day, time(), tzinfo=VIETNAM)


def draft_event(
    *,
    source: str,
    type_: str,
    subject: str,
    time: datetime,
    event_id: str,
    data: dict[str, object],
    sequence: int | None = None,
) -> CloudEvent:
    """An event as the roster states it, not yet validated: the consumers' decoder judges it
    (:func:`services.kit.records.checked_record`), so a bad id is a refused row, not a crash."""
    return CloudEvent.model_construct(
        specversion="1.0",
        id=event_id,
        source=source,
        type=type_,
        subject=subject,
        time=time,
        sequence=str(sequence) if sequence is not None else None,
        datacontenttype="application/json",
        data=data,
    )


def unit_registered(unit: UnitRow, *, source: str, at: datetime) -> CloudEvent:
    return draft_event(
        source=source,
        type_="hr.unit.registered",
        subject=unit.unit_id,
        time=at,
        event_id=stable_id(source, "unit", unit.unit_id),
        data={
            "unit_id": unit.unit_id,
            "name": unit.name,
            "parent_id": unit.parent_id,
            "level": unit.level.value,
        },
    )


def person_registered(person: PersonRow, *, source: str, at: datetime) -> CloudEvent:
    """The person's registration, ``sequence`` 1 (at the roster's epoch)."""
    data: dict[str, object] = {
        "person_id": person.person_id,
        "gender": person.gender.value,
        "ethnic_minority": person.ethnic_minority,
        "category": person.category.value,
        "unit_id": person.unit_id,
    }
    if person.birth_year is not None:
        data["birth_year"] = person.birth_year
    return draft_event(
        source=source,
        type_="hr.person.registered",
        subject=person.person_id,
        time=at,
        event_id=stable_id(source, "person", person.person_id),
        sequence=1,
        data=data,
    )


def person_facts(person: PersonRow, *, source: str, as_of: datetime) -> list[CloudEvent]:
    """What follows the registration, ``sequence`` 2, 3, ...: positions (on their date, else
    at ``as_of``), planning entries (at ``as_of``) and trainings (on their date), in cell
    order. None of them depends on the epoch."""
    pid = person.person_id
    Fact = tuple[str, tuple[str, ...], datetime, dict[str, object]]
    facts: list[Fact] = []
    for position in person.positions:
        at = start_of_day(position.appointed_on) if position.appointed_on else as_of
        identity: tuple[str, ...] = ("position", pid, position.unit_id, position.role.value)
        data: dict[str, object] = {"unit_id": position.unit_id, "role": position.role.value}
        facts.append(("hr.position.appointed", identity, at, data))
    for entry in person.planning:
        identity = ("planning", pid, entry.unit_id, entry.role.value, entry.period)
        data = {"unit_id": entry.unit_id, "role": entry.role.value, "period": entry.period}
        facts.append(("hr.planning.added", identity, as_of, data))
    for training in person.trainings:
        day = training.completed_on
        identity = ("training", pid, training.course_id, day.isoformat())
        data = {"course_id": training.course_id, "category": training.category.value}
        facts.append(("hr.training.completed", identity, start_of_day(day), data))
    return [
        draft_event(
            source=source,
            type_=type_,
            subject=pid,
            time=at,
            event_id=stable_id(source, *identity),
            sequence=sequence,
            data=data,
        )
        for sequence, (type_, identity, at, data) in enumerate(facts, start=2)
    ]
