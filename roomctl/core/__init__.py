"""Core building blocks shared by every layer: errors, events, state types, warnings."""
