"""A province's staff roster (units and people sheets) turned into the contract's events."""
