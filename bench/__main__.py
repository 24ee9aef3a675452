"""`python -m bench <name> [options]`: one benchmark; `python -m bench` lists them.

    python -m bench run --quick        upload to attribution and live positions (./run bench)
    python -m bench peers --quick      ours against the honest peers, same run; the targets
    python -m bench routing --quick    batch routing against GeoPandas; report API latency
    python -m bench memory --quick     peak memory of reading each track format

Each name is a module of this package with a `main(argv)`; `python -m bench.<name>` runs the
same. Run from the repository root (or with it on PYTHONPATH): the benchmarks measure the
geo_patrol of this checkout. bench/README.md says what each number means.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

# Name -> what it measures (the modules not named here are the benchmarks' shared parts).
BENCHMARKS = {
    "run": "track upload to attribution (vs GeoPandas) and live positions over HTTP",
    "peers": "the four comparisons with honest peers and the table of targets (issue 17)",
    "routing": "batch incident routing (vs GeoPandas) and the report API's latency",
    "maps": "the map page, its tiles and the meeting pack at 10k-10M track points",
    "map_year": "the map page and its tiles z8-z16 at a county's year (110M fixes)",
    "export": "GPX/KML export of a big patrol: time to first byte, memory",
    "memory": "peak memory of reading each track format and the hostile KMZ files",
    "cleaning": "the speed-jump filter on tracks of a million fixes",
    "ceiling": "the live load generator against an empty server",
    "slow_clients": "/healthz and live positions beside clients sending a byte at a time",
    "worker_start": "how long a parse worker takes to start, per entry point",
    "worker_start_service": "upload time against the service started both ways",
    "duty": "the duty assessment of a county and a province (60,000 chiefs); /duty p95",
    "upload": "one upload run in a process of its own (a child of `run`)",
    "list_exports": "every incident of a big list as CSV/XLSX/GPKG/SHP: seconds, peak memory",
    "incident_import": "bulk incident import (CSV) against one report per request, same rows",
    "year": "a county zone's year at 1x/10x/100x of a base: every page and call, growth fitted",
}


def usage() -> str:
    """The list of benchmarks."""
    lines = ["usage: python -m bench NAME [options]  (NAME --help for its options)", ""]
    lines += [f"  {name:<22} {what}" for name, what in BENCHMARKS.items()]
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    """Run the benchmark named first in `argv` with the rest of it."""
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    name = argv[0].replace("-", "_")
    if name not in BENCHMARKS:
        print(f"unknown benchmark {argv[0]!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"bench.{name}")
    sys.argv = [f"python -m bench {name}", *argv[1:]]
    module.main(list(argv[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
