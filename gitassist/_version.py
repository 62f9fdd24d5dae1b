"""The one place gitassist's version is written (pyproject.toml reads it; so do --version and
``gitassist.__version__``)."""

__version__ = "0.1.0"
