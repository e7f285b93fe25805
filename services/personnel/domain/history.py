"""A subject's event history: now in ``shared.history`` (the inspections service keeps one
too); the names stay importable from here."""

from shared.history import HistoryEntry as HistoryEntry
from shared.history import entry_from_event as entry_from_event
from shared.history import in_effect as in_effect
from shared.history import merge_into_history as merge_into_history
from shared.history import next_due as next_due
