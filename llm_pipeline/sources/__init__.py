"""Sources of rows that are not raw files (a live database)."""
