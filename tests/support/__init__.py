"""Helpers the tests share; conftest.py files keep only fixtures and import from here.

database (fresh databases, the request session), clients (the app on a test session),
principals (demo callers and their headers), oracle (independent shapely/pyproj answers),
uploads (track files built and uploaded), live_server (the app on a real port in a thread),
service (the real service process), browser (Chromium helpers), and the fault tools
(pausable_proxy, phones, slow_clients).
"""
