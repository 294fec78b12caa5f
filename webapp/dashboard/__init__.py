"""监管看板: the supervisor's view of the work itself (progress, coverage, results)."""
