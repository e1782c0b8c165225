"""The one exception hierarchy of ModelPulse.

Every error a person can cause (a bad file, a missing store, a wrong column) is raised as a
subclass of :class:`ModelPulseError` carrying a `user_message`: one plain sentence that names the
problem. Pages and the CLI catch only this base class; anything else is a bug and propagates.
"""

from __future__ import annotations


class ModelPulseError(Exception):
    """Base class: something the user can fix, described in `user_message`."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class ConfigError(ModelPulseError):
    """A setting (environment variable or secrets.toml key) has a value we cannot use."""


class StoreError(ModelPulseError):
    """The store (a DuckDB file or a DuckLake catalog) is missing, damaged, of an unknown schema version, or a write
    failed."""


class StoreMissingError(StoreError):
    """No store file exists yet at the configured path."""


class StoreLockedError(StoreError):
    """Another process holds the store file open for writing."""


class StoreConflictError(StoreError):
    """Another process changed the same table of a shared (DuckLake) store at the same moment; nothing was
    written, and the same change can simply be made again."""


class StoreBusyError(StoreError):
    """A shared store's write lock, or a claim on the same work, is held by another process for longer than we wait."""


class StoreReadOnlyError(StoreError):
    """The store file (or its folder) can be read but not written: permissions, immutable, or a read-only disk."""


class StoreDamagedError(StoreError):
    """Part of the store file fails DuckDB's block checksums or cannot be read back."""


class DataError(ModelPulseError):
    """Input data does not have the columns, types or values we need."""


class ModelFileError(ModelPulseError):
    """A saved model version is missing, tampered with, truncated or does not match its metadata."""


class NotFoundError(ModelPulseError):
    """A model, version, window or alert named by the user does not exist."""


class TrainingError(ModelPulseError):
    """Training could not run on the data given (too few rows, one class, ...)."""


class MonitoringError(ModelPulseError):
    """A monitoring check could not run on a window."""


class DeliveryError(ModelPulseError):
    """A message could not be sent (the mail server or webhook refused it or could not be reached)."""


class PermissionDenied(ModelPulseError):
    """The signed-in person's role does not allow this change."""
