"""ModelPulse core: training, scoring, storage, monitoring and alerts, with no UI code."""

__version__ = "0.1.0"
