"""The ``jupyter workflow`` command line."""
