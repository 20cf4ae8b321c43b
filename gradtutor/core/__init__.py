"""The headless core: packs, checking, the network, progress. Never imports Textual.

Modules here import torch and sympy only where they compute with them, so that the
tutor's start path (packs, progress, paths) stays light.
"""
