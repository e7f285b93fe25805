"""The ``parity`` subcommands: one module each, exposing ``COMMAND`` (a :class:`Command`).

A new subcommand is a new module here; :mod:`services.kit.cli` finds it by itself.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from services.kit.console import Output


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]  # adds the command's own arguments
    run: Callable[[argparse.Namespace, Output], int]  # returns the exit code
