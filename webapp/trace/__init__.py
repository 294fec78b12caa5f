"""扫码亮证: the inspection's public code (``/c/<token>``), its scans, the unit's rating and misconduct reports.

After check-in the inspector's record page shows the inspection's QR code; whoever scans it sees, without logging
in, that the inspection is genuine, who inspects (masked names, certificate numbers and their validity) and how to
reach the supervisors; after submission the unit confirms the visit and rates it (one rating per inspection) and
anyone may report misconduct. Ratings and reports are for the supervisors, never the inspectors.
"""
