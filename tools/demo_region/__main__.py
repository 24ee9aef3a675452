"""`python -m tools.demo_region`: regenerate geo_patrol/demo/data/ (see the package docstring)."""

from .main import main

raise SystemExit(main())
