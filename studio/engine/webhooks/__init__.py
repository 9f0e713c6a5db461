"""Webhooks: URLs told of the studio's events (store), the events waiting for each (outbox) and
their signed, retried sending (deliver, run by the worker's loop)."""
