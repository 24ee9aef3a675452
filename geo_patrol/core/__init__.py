"""Settings, errors, plausible values, the selection (period, zone...), local time, coordinates
and datums, logs: what every layer may use."""
