"""The `geo-patrol` command, by group."""
