"""nsshutdown: scale whole Kubernetes namespaces down outside working hours, and back on time."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nsshutdown")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
