"""The drift check: every unit's indicators recomputed from scratch, compared with the feed.

    python -m services.indicators.drift     # settings from the environment, like the service

It rebuilds the tally from the people topic and the stored facts in one pass (no
differences applied), at the instant the service last published at (so that time passing
since, a training ageing out, is not taken for drift), computes every unit's status, and
compares it with the last record the service published (its snapshot and
``indicator_history``). Exit status 0 when they agree, 1 with the differences listed.
The service itself runs the same comparison when it is given its partitions, and
publishes what differs; this command only reports.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from typing import Any

from services.indicators.domain.contributions import Rules
from services.indicators.domain.indicators import indicator_values
from services.indicators.domain.publication import Seen, content_of, is_news
from services.indicators.domain.tally import Tally
from services.indicators.people import PeopleLog, PeopleTopic
from services.indicators.store import IndicatorsStore, Published
from shared.clock import VIETNAM, Clock, SystemClock
from shared.plans import Plan, load_plans
from shared.store import database, make_mongo_client


def differences(
    tally: Tally, published: dict[str, Published], plans: list[Plan], now: datetime
) -> dict[str, list[str]]:
    """unit id -> what differs from its last published record (empty: no drift)."""
    year = now.astimezone(VIETNAM).year
    found: dict[str, list[str]] = {}
    for unit_id, unit in sorted(tally.organisation.units.items()):
        chain = tally.organisation.ancestors_and_self(unit_id)
        values = indicator_values(tally.counters, unit_id, chain=chain, plans=plans, year=year)
        content = content_of(unit, values)
        last = published.get(unit_id)
        seen = Seen.of(last.version, last.content) if last else None
        if not is_news(unit, Seen.of(last.version + 1 if last else 1, content), seen):
            continue
        if last is None:
            found[unit_id] = ["never published"]
            continue
        found[unit_id] = _what_differs(content, last.content)
    return found


def _what_differs(content: dict[str, Any], last: dict[str, Any]) -> list[str]:
    fields = [k for k in content if k != "indicators" and content[k] != last.get(k)]
    indicators = content["indicators"]
    before = last.get("indicators", {})
    return fields + [
        f"{name}: {before.get(name, {}).get('numerator')}/"
        f"{before.get(name, {}).get('denominator')} published, "
        f"{figure['numerator']}/{figure['denominator']} recomputed"
        for name, figure in indicators.items()
        if figure != before.get(name)
    ]


async def check(
    store: IndicatorsStore, people: PeopleLog, plans: list[Plan], rules: Rules, clock: Clock
) -> int:
    progress = await store.progress()
    now = progress.at or clock.now()  # what was last published was computed then
    facts = await store.load_facts()
    tally = Tally.of(
        units=facts.units,
        people=await people.newest(until=progress.people_end),
        inspections=facts.inspections,
        rules=rules,
        now=now,
    )
    published = await store.load_published(tally.organisation.units)
    found = differences(tally, published, plans, now)
    for unit_id, what in found.items():
        print(f"{unit_id}: {'; '.join(what)}")
    print(f"drift check: {len(tally.organisation.units)} units, {len(found)} differ")
    return 1 if found else 0


def main() -> None:
    from services.indicators.app import IndicatorsSettings

    settings = IndicatorsSettings()

    async def run() -> int:
        client = make_mongo_client(settings.mongodb_url.get_secret_value(), app_name="drift")
        try:
            store = IndicatorsStore(database(client, settings.mongodb_database))
            people = PeopleTopic(settings.kafka)
            return await check(
                store, people, load_plans(settings.plans_dir), settings.rules(), SystemClock()
            )
        finally:
            await client.close()

    sys.exit(asyncio.run(run()))


if __name__ == "__main__":
    main()
