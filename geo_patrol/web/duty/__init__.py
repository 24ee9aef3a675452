"""The duty page (/duty): river chiefs' duty, joint pairs, roll-ups, reminders."""
