"""Configuration: typed models, a loader that collects every error, the effective view."""
