"""Functions and data with known interactions, for testing detectors end to end."""
