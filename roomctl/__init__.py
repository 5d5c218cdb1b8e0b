"""roomctl: the classroom connection and control appliance."""

__version__ = "0.1.0"
