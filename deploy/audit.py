"""Known vulnerabilities of Parity's installed dependencies, from PyPI (`make audit`; CI).

pip-audit asks PyPI about each installed release (``/pypi/<name>/<version>/json``) or asks
OSV. From this project's machines neither answers: the per-release JSON is a 404 and OSV
is not reachable. The project JSON (``/pypi/<name>/json``) does answer, and it carries the
known vulnerabilities of the project's newest release (the same PyPI advisory data
pip-audit reads). So this audit is exact for a dependency installed at its newest release,
and it names every other one as not audited.

It walks the requirements of the installed ``parity`` distribution with its ``dev`` extra
(what ``make setup`` installs), not the whole environment: pip and setuptools belong to the
virtualenv, not to Parity.

Exit 0: no known vulnerability in any audited release (the ones not audited are listed).
Exit 1: a known vulnerability. Exit 2: PyPI could not be asked.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

PYPI = "https://pypi.org/pypi"


@dataclass(frozen=True)
class Release:
    name: str
    version: str


@dataclass(frozen=True)
class Vulnerability:
    id: str
    aliases: tuple[str, ...]
    fixed_in: tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    release: Release
    newest: str
    vulnerabilities: tuple[Vulnerability, ...] = field(default=())

    @property
    def audited(self) -> bool:
        return _same(self.release.version, self.newest)


def _same(a: str, b: str) -> bool:
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def judge(release: Release, project: Mapping[str, Any]) -> Verdict:
    """The verdict on one installed release, given its project's PyPI JSON.

    The JSON's ``vulnerabilities`` are those of ``info.version``, the newest release: they
    say something about the installed release only when it is that one. Withdrawn
    advisories are left out, and one advisory known under several ids counts once.
    """
    newest = str(project["info"]["version"])
    if not _same(release.version, newest):
        return Verdict(release, newest)
    found: list[Vulnerability] = []
    seen: set[str] = set()
    for entry in project.get("vulnerabilities") or []:
        names = {entry["id"], *entry.get("aliases", [])}
        if entry.get("withdrawn") or names & seen:
            continue
        seen |= names
        found.append(
            Vulnerability(
                id=entry["id"],
                aliases=tuple(entry.get("aliases", [])),
                fixed_in=tuple(entry.get("fixed_in", [])),
            )
        )
    return Verdict(release, newest, tuple(found))


def dependencies(root: str = "parity", extras: Iterable[str] = ("dev",)) -> list[Release]:
    """The installed distributions ``root[extras]`` requires, directly or not."""
    wanted: list[tuple[str, frozenset[str]]] = [(root, frozenset(extras))]
    seen: dict[str, Release] = {}
    done: set[tuple[str, frozenset[str]]] = set()
    while wanted:
        name, chosen = wanted.pop()
        if (canonicalize_name(name), chosen) in done:
            continue
        done.add((canonicalize_name(name), chosen))
        dist = metadata.distribution(name)
        if name != root:
            seen[canonicalize_name(name)] = Release(canonicalize_name(name), dist.version)
        for line in dist.requires or []:
            requirement = Requirement(line)
            environments = [{"extra": extra} for extra in chosen] or [{"extra": ""}]
            marker = requirement.marker
            if marker is None or any(marker.evaluate(env) for env in environments):
                wanted.append((requirement.name, frozenset(requirement.extras)))
    return sorted(seen.values(), key=lambda release: release.name)


def fetch_project(name: str, *, index: str = PYPI, attempts: int = 3) -> Mapping[str, Any]:
    for attempt in range(1, attempts + 1):
        try:
            with urllib.request.urlopen(f"{index}/{name}/json", timeout=20) as response:
                project: Mapping[str, Any] = json.load(response)
                return project
        except (urllib.error.URLError, TimeoutError):
            if attempt == attempts:
                raise
            time.sleep(attempt)
    raise AssertionError("unreachable")


def audit(releases: list[Release], fetch: Callable[[str], Mapping[str, Any]]) -> list[Verdict]:
    with ThreadPoolExecutor(max_workers=8) as pool:
        projects = list(pool.map(fetch, (release.name for release in releases)))
    return [judge(release, project) for release, project in zip(releases, projects, strict=True)]


def report(verdicts: list[Verdict]) -> tuple[int, list[str]]:
    """The exit code and the lines to print."""
    audited = [v for v in verdicts if v.audited]
    vulnerable = [v for v in audited if v.vulnerabilities]
    lines = [
        f"audit: {len(verdicts)} dependencies of parity[dev]; {len(audited)} at their newest"
        f" release, audited: {sum(len(v.vulnerabilities) for v in audited)} known"
        " vulnerabilities"
    ]
    for verdict in vulnerable:
        for vulnerability in verdict.vulnerabilities:
            fixed = ", ".join(vulnerability.fixed_in) or "no fixed release yet"
            also = f" ({', '.join(vulnerability.aliases)})" if vulnerability.aliases else ""
            lines.append(
                f"  VULNERABLE {verdict.release.name} {verdict.release.version}:"
                f" {vulnerability.id}{also}; fixed in {fixed}"
            )
    older = [v for v in verdicts if not v.audited]
    if older:
        lines.append(
            f"not audited, {len(older)} older than their newest release (PyPI answers here"
            " for the newest release only):"
        )
        lines += [f"  {v.release.name} {v.release.version} (newest {v.newest})" for v in older]
    return (1 if vulnerable else 0), lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default=PYPI, help="PyPI's JSON API (default %(default)s)")
    args = parser.parse_args(argv)
    try:
        verdicts = audit(dependencies(), lambda name: fetch_project(name, index=args.index))
    except (urllib.error.URLError, TimeoutError) as error:
        print(f"audit: PyPI could not be asked ({error})", file=sys.stderr)
        return 2
    code, lines = report(verdicts)
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main())
