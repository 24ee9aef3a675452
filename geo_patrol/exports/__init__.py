"""Every list as a file offices open: GeoPackage, zipped Shapefile, XLSX, CSV, GPX, KML.

Introduced in: geo-patrol 0.4.0.

A list (patrols, incidents, effort, uncovered stretches, duty) is read through the same
domain query as its JSON endpoint, in the caller's scope, every row (`sources`: server-side
cursors and batches, never the JSON list's page limit), and handed to a writer as a `Table`:
typed columns (`columns`) and batches of rows with their geometry as WKB. Each writer puts
the file in a temporary directory, batch by batch, and the route streams it from disk.

The writers, and why these:

* GeoPackage and Shapefile: pyogrio (GDAL), already a runtime dependency for reading
  uploads and boundary files. `pyogrio.raw.write` takes numpy arrays and WKB, so no pandas or
  geopandas is needed at run time, and `append=True` writes batch after batch into the same
  layer: memory stays bounded by one batch. GDAL writes the `.cpg` of a Shapefile (UTF-8,
  or CP936/GBK for older ArcGIS) and the `.prj`.
* XLSX: XlsxWriter in `constant_memory` mode: rows are flushed to a temporary file as they
  are written, so a sheet of 100,000 rows costs the memory of one row; it writes real Excel
  dates with a number format, frozen panes, column widths and an autofilter. openpyxl (a
  dependency for reading rosters) writes only by keeping the whole sheet in memory, and is
  used in the tests to read the files back.
* CSV: the standard library, UTF-8 with a BOM (Excel reads Chinese), CRLF, formula-safe
  cells (`duty.listing` quotes a leading = + - @).
* GPX and KML of a period's patrols (`tracks`): text written by PostgreSQL a block of fixes
  at a time, as one patrol's export already does.
"""
