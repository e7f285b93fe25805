"""deploy/audit.py: which releases it can audit from PyPI's project JSON, and what it says."""

from __future__ import annotations

from typing import Any

from tests.deploy_scripts import load_script

audit = load_script("audit.py", "parity_audit")


def project(newest: str, *vulnerabilities: dict[str, Any]) -> dict[str, Any]:
    return {"info": {"version": newest}, "vulnerabilities": list(vulnerabilities)}


def advisory(id_: str, *aliases: str, fixed_in: tuple[str, ...] = (), **extra: Any) -> Any:
    return {"id": id_, "aliases": list(aliases), "fixed_in": list(fixed_in), **extra}


def test_a_release_at_the_newest_version_is_audited_and_its_advisories_reported() -> None:
    verdict = audit.judge(
        audit.Release("jinja2", "3.1.6"),
        project("3.1.6", advisory("PYSEC-1", "CVE-1", "GHSA-1", fixed_in=("3.1.7",))),
    )
    assert verdict.audited
    assert [v.id for v in verdict.vulnerabilities] == ["PYSEC-1"]
    assert verdict.vulnerabilities[0].fixed_in == ("3.1.7",)


def test_an_older_release_is_not_audited_even_when_the_newest_has_no_advisory() -> None:
    verdict = audit.judge(audit.Release("pymongo", "4.20.0"), project("4.20.1"))
    assert not verdict.audited
    assert verdict.newest == "4.20.1"
    assert verdict.vulnerabilities == ()


def test_versions_compare_as_versions_not_as_text() -> None:
    assert audit.judge(audit.Release("x", "1.0"), project("1.0.0")).audited


def test_withdrawn_advisories_and_the_same_advisory_under_another_id_count_once() -> None:
    verdict = audit.judge(
        audit.Release("x", "2.0"),
        project(
            "2.0",
            advisory("PYSEC-1", "CVE-1"),
            advisory("GHSA-1", "CVE-1"),  # the same advisory, known by its CVE
            advisory("PYSEC-2", withdrawn="2026-01-01T00:00:00Z"),
            advisory("PYSEC-3"),
        ),
    )
    assert [v.id for v in verdict.vulnerabilities] == ["PYSEC-1", "PYSEC-3"]


def test_the_report_fails_on_a_known_vulnerability_and_lists_what_it_could_not_audit() -> None:
    clean = audit.judge(audit.Release("a", "1"), project("1"))
    older = audit.judge(audit.Release("b", "1"), project("2", advisory("PYSEC-9")))
    code, lines = audit.report([clean, older])
    assert code == 0  # the newest release's advisory says nothing about release 1
    assert "b 1 (newest 2)" in "\n".join(lines)

    vulnerable = audit.judge(audit.Release("c", "1"), project("1", advisory("PYSEC-7")))
    code, lines = audit.report([clean, vulnerable])
    assert code == 1
    assert any("VULNERABLE c 1: PYSEC-7" in line for line in lines)


def test_the_dependencies_are_those_parity_dev_installs_not_the_virtualenvs_own() -> None:
    names = {release.name for release in audit.dependencies()}
    assert {"faststream", "pymongo", "pydantic-core", "pytest", "aiokafka"} <= names
    assert not names & {"parity", "pip", "setuptools"}


def test_the_audit_asks_for_every_dependency_and_judges_each() -> None:
    asked: list[str] = []

    def fetch(name: str) -> dict[str, Any]:
        asked.append(name)
        return project("9")

    releases = [audit.Release("a", "9"), audit.Release("b", "1")]
    verdicts = audit.audit(releases, fetch)
    assert sorted(asked) == ["a", "b"]
    assert [v.audited for v in verdicts] == [True, False]
