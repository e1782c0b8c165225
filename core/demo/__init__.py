"""The embedded demo: three real public datasets (`datasets.py`), two PyTorch versions each, and a
replayed production year (`seed.py`)."""
