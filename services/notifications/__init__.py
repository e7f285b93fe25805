"""The notifications service: rules over indicator and inspection changes, plan deadlines and
data quality; a notification log, an outbox, e-mail and signed webhooks."""
