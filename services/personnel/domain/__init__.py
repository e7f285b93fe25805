"""Pure domain logic of the personnel service: values in, values out, no I/O."""
