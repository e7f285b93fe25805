"""What the indicator service does: take facts, keep the tally, publish what changed.

Each function takes its collaborators as keyword-only parameters. The order of a batch is
the progress written (how far the people topic was applied, the instant records are
computed at), then unit and inspection facts, then records published (awaited), then
what was published written, then the consumer commits; people are not written: they are
on the people topic already, which a reload reads (people.py). A crash anywhere in between
is repaired by :func:`reload`, which runs after every partition assignment (start-up,
restart, a replica taking over), before the next batch or sweep (the assignment marks the
province ``stale``): it rebuilds the tally from the people topic and the stored facts, at
the recorded instant, and publishes every unit whose status differs from its last recorded
record: a record published and not recorded comes out again the same. Re-processing a
batch is harmless: facts carry revisions.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from services.indicators.domain.contributions import Rules
from services.indicators.domain.indicators import indicator_values
from services.indicators.domain.publication import Published, Seen, content_of, is_news
from services.indicators.domain.tally import PAUSE_EVERY, Steps, Tally, advance
from services.indicators.feed import RecordSink, indicator_record
from services.indicators.metrics import IndicatorMetrics, gauged_units, observe_targets
from services.indicators.people import PeopleLog
from services.indicators.store import SNAPSHOT_EVERY, IndicatorsStore
from shared.clock import VIETNAM, Clock
from shared.internal import InternalChange, PersonChanged, UnitChanged, UnitInspectionStatus
from shared.plans import Plan

log = logging.getLogger("parity.indicators")


@dataclass
class Province:
    """The in-memory state; replaced as a whole by :func:`reload`."""

    tally: Tally
    published: dict[str, Seen] = field(default_factory=dict)  # unit -> its last record
    recorded_at: datetime | None = None  # the instant the store says records are computed at
    last_page: int = 0  # the history's last page (see store.py)
    snapshot_page: int = 0  # the page the store's snapshot stands at
    # A batch or sweep failed half-way (Kafka or the store down): the tally may hold facts
    # whose records were never published or recorded, and the batch that comes again would
    # find nothing new in them. Or the partitions were just assigned. The next batch or
    # sweep reloads first.
    stale: bool = False


@dataclass(frozen=True)
class Facts:
    people: list[PersonChanged]
    units: list[UnitChanged]
    inspections: list[UnitInspectionStatus]


@dataclass(frozen=True)
class Collaborators:
    store: IndicatorsStore
    people: PeopleLog
    feed: RecordSink
    clock: Clock
    metrics: IndicatorMetrics
    plans: Sequence[Plan]
    rules: Rules
    province: Province


def split(changes: Iterable[InternalChange]) -> Facts:
    facts = Facts([], [], [])
    for change in changes:
        if isinstance(change, PersonChanged):
            facts.people.append(change)
        elif isinstance(change, UnitChanged):
            facts.units.append(change)
        else:
            facts.inspections.append(change)
    return facts


async def apply_changes(
    changes: Iterable[InternalChange], *, deps: Collaborators, people_end: int
) -> None:
    """Take the newer of the facts given, write them, publish the units they change.

    ``people_end``: the offset after the batch's last record of the people topic."""
    await _on_a_current_province(
        lambda: _apply_changes(changes, deps=deps, people_end=people_end), deps=deps
    )


async def _apply_changes(
    changes: Iterable[InternalChange], *, deps: Collaborators, people_end: int
) -> None:
    tally = deps.province.tally
    given = split(changes)
    news = Facts(
        people=[p for p in given.people if tally.put_person(p)],
        units=[u for u in given.units if tally.put_unit(u)],
        inspections=[i for i in given.inspections if tally.put_inspection(i)],
    )
    if not (news.people or news.units or news.inspections):
        return
    now = _now(deps)
    # Before the facts, and before anything is published from the people (see people.py):
    # a reload after this batch then computes at its instant, never at an earlier one.
    await _record_progress(deps=deps, now=now, people_end=people_end if news.people else None)
    await deps.store.save_facts(units=news.units, inspections=news.inspections)
    if tally.in_a_new_year(now):
        await _in_a_new_year(deps=deps, now=now)
        return
    units = {u.unit_id for u in news.units}  # a unit's record shows its name, place, state
    # and the people due by now: the tally is then what a rebuild at ``now`` would be
    touched = tally.refresh_people({p.person_id for p in news.people} | tally.due(now), now)
    touched |= tally.refresh_units({i.unit_id for i in news.inspections} | units, now)
    await publish_changes(touched | units, deps=deps, now=now)


async def sweep(*, deps: Collaborators) -> None:
    """Time passes: trainings age out, a new year starts (year-to-date figures, milestones)."""
    await _on_a_current_province(lambda: _sweep(deps=deps), deps=deps)


async def _sweep(*, deps: Collaborators) -> None:
    tally, now = deps.province.tally, _now(deps)
    if tally.in_a_new_year(now):
        await _in_a_new_year(deps=deps, now=now)
        return
    due = tally.due(now)
    if due:
        await publish_changes(tally.refresh_people(due, now), deps=deps, now=now)


async def reload(*, deps: Collaborators) -> None:
    """Rebuild the province from the people topic and the stored facts, and publish
    whatever differs."""
    # cleared first: an assignment while this runs (the rebalance listener does not wait for
    # it) marks the province stale again, and the next batch or sweep reloads once more
    deps.province.stale = False
    await _or_stale(_reload(deps=deps), deps=deps)


async def _reload(*, deps: Collaborators) -> None:
    # The old province goes first: two at once would double the peak memory. Should this
    # fail half-way, the province is stale, and nothing reads it before the next reload.
    deps.province.tally, deps.province.published = Tally(rules=deps.rules), {}
    progress = await deps.store.progress()
    people = await deps.people.newest(until=progress.people_end)
    facts = await deps.store.load_facts()
    # At the instant the last records were computed at: a record published and not
    # recorded is published again the same. Time passing since is the next sweep's.
    now = progress.at or deps.clock.now()
    deps.province.recorded_at = progress.at
    tally = Tally.holding(
        units=facts.units, people=people, inspections=facts.inspections, rules=deps.rules
    )
    await in_steps(tally.rebuilding(now))
    deps.province.tally = tally
    deps.province.published = await _last_published(tally, deps=deps)
    deps.metrics.rebuilds.labels(reason="reload").inc()
    log.info(
        "indicators: %d units, %d people, %d published statuses loaded",
        len(facts.units),
        len(people),
        len(deps.province.published),
    )
    await publish_changes(set(tally.organisation.units), deps=deps, now=now)


async def _last_published(tally: Tally, *, deps: Collaborators) -> dict[str, Seen]:
    """What was last published of every unit; the plan gauges set from it."""
    index = await deps.store.published_index(tally.organisation.units)
    province = deps.province
    province.last_page, province.snapshot_page = index.last_page, index.snapshot_page or 0
    if index.snapshot_page is None:  # a new store, or one written before pages: read once
        await deps.store.save_snapshot(index.last_page, index.seen)
        province.snapshot_page = index.last_page
    roots = _roots(tally)
    gauged = {u: index.seen[u] for u in gauged_units(deps.plans, roots) if u in index.seen}
    records = await deps.store.records(gauged)
    contents = {unit_id: record.content for unit_id, record in records.items()}
    observe_targets(deps.metrics, deps.plans, roots, contents)
    return index.seen


def _roots(tally: Tally) -> list[str]:
    return [u.unit_id for u in tally.organisation.active_units() if u.parent_id is None]


async def _on_a_current_province(
    work: Callable[[], Awaitable[None]], *, deps: Collaborators
) -> None:
    """Reload a stale province first, then do the work."""
    if deps.province.stale:
        await reload(deps=deps)
    await _or_stale(work(), deps=deps)


async def _or_stale(work: Awaitable[None], *, deps: Collaborators) -> None:
    """Await the work; should it fail half-way, the province is stale (see Province)."""
    try:
        await work
    except BaseException:
        deps.province.stale = True
        raise


async def _in_a_new_year(*, deps: Collaborators, now: datetime) -> None:
    """Year-to-date figures start again: re-derive everything, look at every unit."""
    deps.metrics.rebuilds.labels(reason="new_year").inc()
    tally = deps.province.tally
    await in_steps(tally.rebuilding(now))
    await publish_changes(set(tally.organisation.units), deps=deps, now=now)


async def publish_changes(unit_ids: set[str], *, deps: Collaborators, now: datetime) -> None:
    """Publish the units among ``unit_ids`` whose status is news, then record them.

    ``PAUSE_EVERY`` units at a time: between two, the consumer's heartbeat gets out (see
    :func:`in_steps`), and no more than that many records are held at once (all 8,400 units
    of a province published together took about 40 MB)."""
    ordered = sorted(unit_ids)
    for start in range(0, len(ordered), PAUSE_EVERY):
        if start:
            await asyncio.sleep(0)
        await _publish_news(ordered[start : start + PAUSE_EVERY], deps=deps, now=now)


async def _publish_news(unit_ids: list[str], *, deps: Collaborators, now: datetime) -> None:
    tally, published = deps.province.tally, deps.province.published
    year = now.astimezone(VIETNAM).year
    records: list[Published] = []
    candidates: dict[str, Seen] = {}
    for unit_id in unit_ids:
        unit = tally.organisation.get(unit_id)
        if unit is None:
            continue
        values = indicator_values(
            tally.counters,
            unit_id,
            chain=tally.organisation.ancestors_and_self(unit_id),
            plans=deps.plans,
            year=year,
        )
        content = content_of(unit, values)
        last = published.get(unit_id)
        candidate = Seen.of((last.version if last else 0) + 1, content)
        if is_news(unit, candidate, last):
            records.append(Published(unit_id, candidate.version, content))
            candidates[unit_id] = candidate
    if not records:
        return
    if deps.province.recorded_at != now:
        await _record_progress(deps=deps, now=now)
    as_of = now.astimezone(VIETNAM)
    await deps.feed.publish(
        [indicator_record(r.content, version=r.version, as_of=as_of) for r in records]
    )
    await _record_page(records, candidates, deps=deps, as_of=as_of)
    deps.metrics.records_published.inc(len(records))
    # a gauge moves only when its unit's record does
    contents = {record.unit_id: record.content for record in records}
    observe_targets(deps.metrics, deps.plans, _roots(tally), contents)


async def _record_page(
    records: list[Published], candidates: dict[str, Seen], *, deps: Collaborators, as_of: datetime
) -> None:
    """Write the records published as the history's next page, and every
    ``SNAPSHOT_EVERY`` pages what is kept of them all."""
    province = deps.province
    number = province.last_page + 1
    written = await deps.store.save_page(
        number, records, as_of=as_of.isoformat(), as_of_utc=_utc(as_of)
    )
    province.last_page = written
    province.published.update({u: replace(s, page=written) for u, s in candidates.items()})
    if written != number:
        # Another replica published page ``number`` (a rebalance): this one has not seen
        # its records. No snapshot from here; the next batch or sweep reloads.
        log.warning("indicators: page %d was written by another replica; reloading", number)
        province.stale = True
    elif written - province.snapshot_page >= SNAPSHOT_EVERY:
        await deps.store.save_snapshot(written, province.published)
        province.snapshot_page = written


def _now(deps: Collaborators) -> datetime:
    """The clock, but never before the instant the last records were computed at: after a
    take-over, a host whose clock is behind the previous owner's must not turn time back
    (at the turn of the year, the year-to-date figures would go back a year)."""
    now, recorded = deps.clock.now(), deps.province.recorded_at
    return recorded if recorded is not None and recorded > now else now


async def _record_progress(
    *, deps: Collaborators, now: datetime, people_end: int | None = None
) -> None:
    """Before records computed at ``now`` are published (see :func:`_reload`)."""
    await deps.store.save_progress(at=now, people_end=people_end)
    deps.province.recorded_at = now


async def in_steps(steps: Steps) -> set[str]:
    """Run a tally's steps, letting the event loop run the other tasks at every pause.

    A full rebuild of a large organisation takes seconds of CPU (about 5 s for 154,000
    people); done in one go it starves the consumer's heartbeat, and a consumer silent for
    its session timeout is put out of its group (its batch's commit then fails)."""
    changed = advance(steps)
    while changed is None:
        await asyncio.sleep(0)  # a pause: the other tasks run
        changed = advance(steps)
    return changed


def _utc(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat(timespec="microseconds")
