"""gradtutor: a terminal tutor for the chain rule and backpropagation."""

__version__ = "0.1.0"
