"""Signals between domain packages (blinker), so that a lower package tells what happened without importing
the packages above it that react.

Senders: ``webapp.inspections`` (a record was submitted) and ``webapp.rectification`` (a penalty was recorded).
Receivers are connected in one place, ``_wire_events`` in ``webapp/__init__.py``. A receiver runs inside the
sender's transaction and may return a dict, which the sender adds to its audit event.

- ``inspection_started.send(inspection, user=user)``: an inspector checked in (a new record, not a supplement).
- ``result_submitted.send(inspection, user=user)``: an inspection record was submitted.
- ``penalty_recorded.send(follow_up, actor=actor, org_id=org_id)``: a follow-up (行政处罚 or other) of an
  order not put right was recorded.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

inspection_started = _signals.signal("inspection-started")
result_submitted = _signals.signal("result-submitted")
penalty_recorded = _signals.signal("penalty-recorded")
