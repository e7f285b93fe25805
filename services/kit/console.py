"""What the kit shows a person: progress bars and refusals on stderr, the summary on stdout,
and the exit codes every command keeps."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

from services.kit.records import OutboundRecord, Rejection

EXIT_OK = 0  # everything accepted (and, unless --dry-run, acknowledged by Kafka)
EXIT_REJECTED = 1  # some lines or rows refused; the accepted ones were published
EXIT_FAILED = 2  # usage error, unreadable input, or Kafka unreachable / refusing records


@dataclass
class Output:
    out: Console = field(default_factory=lambda: Console(soft_wrap=True))
    err: Console = field(default_factory=lambda: Console(stderr=True, soft_wrap=True))
    show_progress: bool = True

    def progress(self, *, in_bytes: bool = False) -> Progress:
        """A progress display on stderr (silent when stderr is not a terminal); counts records,
        or bytes of an input file."""
        return Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            DownloadColumn() if in_bytes else MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=self.err,
            disable=not (self.show_progress and self.err.is_terminal),
            transient=False,
        )

    def busy(self, what: str) -> AbstractContextManager[object]:
        """A spinner on stderr while a step without a count runs (silent when not a terminal)."""
        if self.show_progress and self.err.is_terminal:
            return self.err.status(escape(what))
        return nullcontext()

    def error(self, message: str) -> None:
        self.err.print(f"[bold red]error:[/] {escape(message)}")

    def note(self, message: str) -> None:
        self.err.print(escape(message), style="yellow")

    def rejections(self, rejections: Iterable[Rejection]) -> None:
        for rejection in rejections:
            subject = f" [{rejection.subject}]" if rejection.subject else ""
            self.err.print(
                f"[red]rejected[/] {escape(rejection.where)}{escape(subject)}: "
                f"{escape(rejection.reason)}",
                highlight=False,
            )

    def summary(self, title: str, lines: Iterable[tuple[str, object]]) -> None:
        self.out.print(f"[bold]{escape(title)}[/]", highlight=False)
        for label, value in lines:
            self.out.print(f"  {escape(label)}: {escape(str(value))}", highlight=False)


def by_type(records: Iterable[OutboundRecord]) -> list[tuple[str, object]]:
    counts = Counter(record.event_type for record in records)
    return [(f"  {event_type}", count) for event_type, count in sorted(counts.items())]
