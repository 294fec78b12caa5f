"""检查对象名录库: the unit library (columns and cleaning, services, queries, forms, views)."""
