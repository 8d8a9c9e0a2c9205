"""The version, alone in a module the core can import without importing the package's public names."""

__version__ = "0.1.0"
