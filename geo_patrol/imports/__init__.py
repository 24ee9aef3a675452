"""Loading imported files into the database, one transaction per file."""
