"""InfluencerAI Studio."""
from __future__ import annotations


def __getattr__(name: str) -> str:
    # Looked up on first use: importlib.metadata takes longer to load than the whole of
    # `influencerai-studio --help`.
    if name != "__version__":
        raise AttributeError(f"module 'studio' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("influencerai-studio")
    except PackageNotFoundError:  # running from a source tree that was not installed
        found = "0.0.0"
    globals()["__version__"] = found
    return found
