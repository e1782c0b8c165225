"""Models: features, the PyTorch network, the training loop and its yardstick, scoring, saved versions.

`versions.register_version` is the one way a trained network becomes a stored version (the demo,
uploads and `python -m core train` all call it).
"""
