"""Pages: the supervisor map, case pages, the meeting pack, the phone app; templates, assets."""
