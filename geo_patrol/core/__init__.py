"""Settings, errors, values, local time, coordinates and datums, logs: what every layer uses."""
