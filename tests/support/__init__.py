"""Helpers the tests share; conftest.py files keep only fixtures and import from here, and no
test module imports another.

- paths: the repository root and tests/fixtures;
- database: fresh, migrated and demo databases on the test server, the request session;
- clients: the app on a test's own session (`app_on`), the one client factory;
- principals: the demo callers, their bearer headers, ids of demo members and teams;
- oracle: independent shapely/pyproj answers on the demo polygons, and walks to check;
- uploads: track files built (hostile ones too) and uploaded through the API;
- hostile_text: hostile names and the checks that a page keeps them inert;
- memory: RSS and peaks read from /proc;
- compose: docker/compose.yaml as the PostgreSQL tests read it;
- live_server: the app on a real port in a thread; service: the real service process;
- browser: Chromium helpers (the whole demo served, a watched page, a cuttable phone link);
- pausable_proxy, phones, slow_clients: the fault tests' tools.
"""
