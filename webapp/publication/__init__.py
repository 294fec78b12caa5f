"""一公开 publication deadlines: results public within 20 working days of the check, penalties within 7 of
the decision (see docs/architecture.md, "Publication deadlines")."""
