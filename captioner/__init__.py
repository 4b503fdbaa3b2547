"""Image captioning: a VGG-style encoder whose feature enters a recurrent decoder at the first step.

``from captioner import Captioner`` is resolved lazily, so importing the package (e.g. for ``captioner --help``)
does not load TensorFlow.

Example:
    >>> import captioner
    >>> captioner.__version__, captioner.Captioner.__module__  # Captioner: imported here, on first use
    ('0.1.0', 'captioner.api')
"""

__version__ = "0.1.0"

__all__ = ["Captioner", "__version__"]


def __getattr__(name: str):
    if name == "Captioner":
        from captioner.api import Captioner

        return Captioner
    raise AttributeError(f"module 'captioner' has no attribute {name!r}")
