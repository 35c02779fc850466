"""The consultation intake project: settings, URLs and entry points."""

__version__ = "0.1.0"
