"""One module per track file format, and the XML helpers they share."""
