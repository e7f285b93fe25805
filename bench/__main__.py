"""``python -m bench`` (``make bench``): every figure of bench/RESULTS.md in one run.

Order: the raw upsert ceiling on the province's records; the province end to end with the
services in this process, then freshness on the loaded province (at half the end-to-end
rate, three runs pooled; a quarter of it; half the upsert ceiling; and idle); the raw
consume ceiling of the same records; a full rebuild by three service processes (their
peak memory and a py-spy profile), then freshness on those processes at half the
end-to-end rate (the services as deployed); the province end to end again, by three service
processes started before its records; the larger organisation end to end; the personnel
service alone; the raw upsert ceiling again, to show how far the machine's speed moved
during the run.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter

from aiokafka import AIOKafkaProducer
from pymongo import monitoring

from bench import report
from bench.ceilings import consume_ceiling, upsert_ceiling
from bench.config import (
    ROOT,
    BenchSettings,
    kafka_settings,
    mongodb_url,
    refuse_shared_infrastructure,
)
from bench.freshness import as_of_today
from bench.machine import describe, infra_pids
from bench.probe import LagProbe
from bench.profile import StoreBusy
from bench.runs import (
    INBOUND,
    DeployedFreshness,
    Infra,
    deployed_end_to_end,
    end_to_end,
    personnel_alone,
    rebuild,
)
from shared.kafka import client_options
from shared.store import make_mongo_client
from shared.topics import all_topics, internal_topics
from tests.generator import generate_province, generate_with_snapshot
from tests.integration.kafka_tools import recreate_topics


def say(line: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {line}", flush=True)


async def run(settings: BenchSettings) -> report.Results:
    kafka = kafka_settings(settings.partitions)
    url = mongodb_url()
    refuse_shared_infrastructure(kafka, url)
    busy = StoreBusy()
    monitoring.register(busy)  # before any client exists: the services' clients report too
    mongo = make_mongo_client(url, app_name="bench")
    producer = AIOKafkaProducer(
        linger_ms=0, max_request_size=4 * 1024 * 1024, **client_options(kafka)
    )
    await producer.start()
    try:
        machine = await describe(ROOT, mongo)
        for line in machine.lines():
            say(line)
        province, snapshot = generate_with_snapshot(settings.seed, settings.province_shape())
        counts = Counter(r.topic for r in province.records)
        say(f"province {settings.province_shape()}: {len(province.records)} records {dict(counts)}")
        async with LagProbe(kafka) as probe:
            infra = Infra(
                kafka,
                url,
                mongo,
                producer,
                probe,
                busy,
                infra_pids(settings.data),
                settings.settle_timeout_seconds,
            )
            # first: the freshness run offers events at half its rate too
            say("1. raw upsert ceiling")
            upsert = await upsert_ceiling(
                mongo, f"bench_ceiling_{time.time_ns()}", province.records
            )
            say(f"   upsert {upsert.per_second:.0f}/s")
            await recreate_topics(kafka, all_topics(kafka.partitions))
            say("2+3. province end to end (services in this process), then freshness")
            province_run = await end_to_end(
                infra,
                province,
                "province",
                snapshot=snapshot,
                freshness_events=settings.freshness_events,
                freshness_runs=settings.freshness_runs,
                idle_events=settings.idle_freshness_events,
                idle_interval=settings.idle_interval_seconds,
                ceiling_rate=upsert.per_second,
            )
            say(f"   {province_run.per_second:.1f} events/s ({province_run.seconds:.1f} s)")
            say("1. raw consume ceiling (of the records just produced)")
            consume = await consume_ceiling(kafka, probe, INBOUND, expected=len(province.records))
            upsert_array = await upsert_ceiling(
                mongo, f"bench_ceiling_{time.time_ns()}", province.records, history_as_array=True
            )
            say(
                f"   consume {consume.per_second:.0f}/s"
                f" (upsert {upsert_array.per_second:.0f}/s with the history as an array)"
            )
            say("4+6+3. full rebuild by three service processes (memory, py-spy), freshness")
            log_dir = (settings.data or ROOT / ".data") / "bench-logs"
            # from offset 0 means the topics between the services too: the indicator
            # service rebuilds its people from the people topic
            await recreate_topics(kafka, internal_topics())
            deployed_freshness = DeployedFreshness(
                as_of_today(snapshot, province),
                events=settings.freshness_events,
                runs=settings.freshness_runs,
                rate=province_run.per_second / 2,
                ceiling_rate=upsert.per_second,
            )
            rebuilt = await rebuild(
                infra, log_dir, profile=settings.profile, freshness=deployed_freshness
            )
            say(f"   {rebuilt.seconds:.1f} s, peak memory {rebuilt.peak_resident_mb}")
            say("2b. province end to end, the services as deployed (a process each)")
            await recreate_topics(kafka, all_topics(kafka.partitions))
            deployed = await deployed_end_to_end(infra, province, log_dir)
            say(f"   {deployed.per_second:.1f} events/s ({deployed.seconds:.1f} s)")
            larger = generate_province(settings.seed, settings.larger_shape())
            say(f"5. larger organisation {settings.larger_shape()}: {len(larger.records)} records")
            await recreate_topics(kafka, all_topics(kafka.partitions))
            larger_run = await end_to_end(infra, larger, "larger")
            say(f"   {larger_run.per_second:.1f} events/s ({larger_run.seconds:.1f} s)")
            say("1b. the personnel service alone, on the province's records")
            await recreate_topics(kafka, all_topics(kafka.partitions))
            personnel_run = await personnel_alone(infra, province)
            say(f"   {personnel_run.per_second:.1f} events/s ({personnel_run.seconds:.1f} s)")
            say("1c. the raw upsert ceiling again: did the machine's speed hold?")
            upsert_after = await upsert_ceiling(
                mongo, f"bench_ceiling_{time.time_ns()}", province.records
            )
            say(f"   upsert {upsert_after.per_second:.0f}/s")
    finally:
        await producer.stop()
        await mongo.close()
    return report.Results(
        machine=machine,
        province_shape=repr(settings.province_shape()),
        province_records=dict(counts),
        larger_shape=repr(settings.larger_shape()),
        larger_records=len(larger.records),
        consume=consume,
        upsert=upsert,
        upsert_after=upsert_after,
        upsert_array=upsert_array,
        province=province_run,
        rebuild=rebuilt,
        deployed=deployed,
        larger=larger_run,
        personnel=personnel_run,
        finished=report.now(),
    )


def quiet_logs() -> None:
    """The services' start-up and dead-letter lines are expected here; keep the figures."""
    logging.basicConfig(level=logging.WARNING)
    logging.disable(logging.INFO)  # FastStream's loggers set their own levels
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # topics being recreated
    logging.getLogger("parity").setLevel(logging.ERROR)  # the province's poison records
    logging.getLogger("parity.lag").setLevel(logging.CRITICAL)  # a new Kafka's first seconds


def main() -> None:
    settings = BenchSettings()
    quiet_logs()
    results = asyncio.run(run(settings))
    text = report.render(results)
    print(text)
    report.write(settings.results, text)
    say(f"written to {settings.results}")


if __name__ == "__main__":
    main()
