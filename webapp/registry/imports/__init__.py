"""Bulk import into the two libraries (.xlsx/.csv, validate all, all-or-nothing) and the unit export."""
