"""Every list as a file offices open: GeoPackage, zipped Shapefile, XLSX, CSV, GPX, KML."""
