"""The ``parity`` command line: ``parity <command> ...`` with one module per command.

Commands live in :mod:`services.kit.commands`; each module exposes ``COMMAND`` and is
discovered here, so adding one needs no change to this file. Kafka is configured by the
environment (``PARITY_KAFKA_*``, see :class:`shared.settings.KafkaSettings`).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from services.kit import commands
from services.kit.commands import Command
from services.kit.console import EXIT_FAILED, Output


def discover() -> list[Command]:
    found = []
    for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{module_info.name}")
        command = getattr(module, "COMMAND", None)
        if isinstance(command, Command):
            found.append(command)
    return found


def parser(available: Sequence[Command]) -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="parity",
        description="Parity's HR integration kit: publish events, import a staff roster.",
        epilog="Kafka comes from PARITY_KAFKA_* (default 127.0.0.1:9092). Exit codes: "
        "0 all accepted, 1 some lines or rows rejected, 2 usage or connection error.",
    )
    root.add_argument(
        "--no-progress", action="store_true", help="no progress bars (they go to stderr)"
    )
    root.add_argument(
        "--verbose", action="store_true", help="also show the Kafka client's own warnings"
    )
    subcommands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in available:
        sub = subcommands.add_parser(command.name, help=command.help, description=command.help)
        command.configure(sub)
        sub.set_defaults(run=command.run)
    return root


def main(argv: Sequence[str] | None = None, output: Output | None = None) -> int:
    """Run one command and return its exit code (the console script exits with it)."""
    args = parser(discover()).parse_args(argv)
    output = output or Output()
    output.show_progress = not args.no_progress
    try:
        with kafka_client_logs(verbose=args.verbose):
            code: int = args.run(args, output)
    except KeyboardInterrupt:
        output.error("interrupted")
        return EXIT_FAILED
    return code


@contextmanager
def kafka_client_logs(*, verbose: bool) -> Iterator[None]:
    """The kit reports a Kafka failure itself, once and plainly; the client's own retry
    warnings are shown only with ``--verbose``."""
    client_logger = logging.getLogger("aiokafka")
    level = client_logger.level
    client_logger.setLevel(logging.WARNING if verbose else logging.CRITICAL)
    try:
        yield
    finally:
        client_logger.setLevel(level)
