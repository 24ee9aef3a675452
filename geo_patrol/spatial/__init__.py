"""The spatial rules, as set-based SQL over indexed tables."""
