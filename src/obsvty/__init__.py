"""obsvty: a privacy-first, local-first OpenTelemetry backend."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("obsvty")
except PackageNotFoundError:  # pragma: no cover - only when run from a bare source tree
    __version__ = "0.0.0"

__all__ = ["__version__"]
