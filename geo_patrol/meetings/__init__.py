"""Joint meetings: the figures of the meeting pack."""
