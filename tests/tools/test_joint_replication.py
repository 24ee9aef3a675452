"""tools/joint_replication: on two real PostgreSQL clusters, a publication with a row filter
sends Zhejiang only Jiangsu's joint cases, and the clusters are gone afterwards."""

from __future__ import annotations

from geo_patrol.db.embedded import EmbeddedCluster
from tools.joint_replication import ZHEJIANG_FIRST_ID, demonstrate, two_clusters


def test_only_joint_cases_arrive_and_the_clusters_stop() -> None:
    """Jiangsu: case 1 joint, case 2 local then joint then local again; Zhejiang: one case
    of its own from its own id range. What Zhejiang holds follows the filter at each step."""
    clusters: list[EmbeddedCluster] = []
    with two_clusters() as (js, zj):
        clusters += [js, zj]
        report = demonstrate(js, zj)
    assert report["zhejiang_after_inserts"] == [[1, "js", "joint: dye in the border canal"]]
    assert report["zhejiang_after_updates"] == [[1, True, "assigned"], [2, True, "reported"]]
    assert report["zhejiang_after_unjoining_2_without_publishing_deletes"] == [
        [1, True, "assigned"]
    ]
    assert report["zhejiang_all_ids"] == [1, ZHEJIANG_FIRST_ID]
    assert report["jiangsu_all_ids"] == [1, 2]
    assert report["update_refused_with_primary_key_identity"].startswith("cannot update table")
    assert report["zhejiang_zones"] == []  # case 1's zone arrived unchecked
    assert not any(cluster.root.exists() for cluster in clusters)
