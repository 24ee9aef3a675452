"""Reading import files (boundaries, rivers, villages) into validated WGS84 features."""

from geo_patrol.ingest.vector import VectorFeature, VectorFile, read_vector

__all__ = ["VectorFeature", "VectorFile", "read_vector"]
