"""Pure rules of the notifications service: values in, values out, no I/O."""
