"""The audit log page and the one presenter of audit events (the log, a unit's and an inspector's history)."""
