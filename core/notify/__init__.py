"""Alerts reach people: what each channel is owed after a run (`owed.py`), the words (`messages.py`,
`digest.py`), how each kind sends (`email.py`, `webhook.py`, `channels.py`) and the sender that
drains the outbox (`deliver.py`)."""

from core.notify.channels import SENDERS
from core.notify.channels import all_channels
from core.notify.channels import find_channel
from core.notify.channels import new_channel_id
from core.notify.deliver import DeliveryReport
from core.notify.deliver import deliver_due
from core.notify.deliver import holder_id
from core.notify.digest import digest_message
from core.notify.digest import owe_digest
from core.notify.owed import owed_for_changes
from core.notify.probe import send_test

__all__ = [
    "SENDERS",
    "DeliveryReport",
    "all_channels",
    "deliver_due",
    "digest_message",
    "find_channel",
    "holder_id",
    "new_channel_id",
    "owe_digest",
    "owed_for_changes",
    "send_test",
]
