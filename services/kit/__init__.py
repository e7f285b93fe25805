"""The HR integration kit: the ``parity`` command line (publish events, import a roster)."""
