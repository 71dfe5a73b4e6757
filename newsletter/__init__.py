"""newsletter: the weekly article in, a responsive email to every subscriber out."""

__version__ = "0.1.0"
