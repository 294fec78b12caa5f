"""Inspections (issue 4): on-site inspection records."""
