"""A patrol's track: types, file formats, the one reader entry, cleaning, parse workers."""
