"""Parity's services: each an independent process with its own consumer group and collections."""
