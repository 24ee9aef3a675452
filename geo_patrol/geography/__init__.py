"""Boundaries and their versions, lookup, hierarchy, rivers, segments, zones; imports/."""
