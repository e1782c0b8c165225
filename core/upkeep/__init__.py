"""Keeping a store whole: its health (`check`), backups and restores, and the running app's local door
for reading commands."""
