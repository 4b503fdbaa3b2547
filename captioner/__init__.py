"""Image captioning: a VGG-style encoder whose feature enters a recurrent decoder at the first step."""

__version__ = "0.1.0"
