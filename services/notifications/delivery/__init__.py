"""Delivering notifications: the outbox worker and its channels (Kafka, SMTP, webhooks)."""
