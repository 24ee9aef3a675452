"""The phone workflow: the web app at /m/ and the set-up of Traccar Client and OsmAnd."""
