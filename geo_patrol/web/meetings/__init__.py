"""The joint meetings' pages: a zone's meetings, preparing one, recording it, following up
its decisions."""
