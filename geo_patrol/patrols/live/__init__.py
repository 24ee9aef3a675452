"""Live positions: the OsmAnd/Traccar protocol, the store and the batching writer."""
