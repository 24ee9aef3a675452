"""The joint-meeting pack page."""
