"""OGC API - Features: the collections QGIS and GDAL read, in the caller's scope."""
