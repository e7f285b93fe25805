"""Pure domain logic of the inspections service: values in, values out, no I/O."""
