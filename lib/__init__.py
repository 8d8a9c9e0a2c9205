"""The example app's own code: controllers (logic and storage) and URL builders, imported by routes."""
