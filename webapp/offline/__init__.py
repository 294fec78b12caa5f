"""Offline on site: the sync ledger (idempotent replays of queued changes), the day's pack, device reports and
the supervisors' import of an exported outbox."""
