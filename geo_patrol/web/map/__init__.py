"""The supervisor map: page, layers, filters, basemaps, measuring tool, words."""
