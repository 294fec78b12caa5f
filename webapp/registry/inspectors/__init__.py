"""执法检查人员名录库: the inspector library (columns and cleaning, services, queries, forms, views)."""
