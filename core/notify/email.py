"""Email over SMTP: plain-text and HTML parts, STARTTLS or TLS, credentials from secrets only.

The Message-ID is the outbox id, so a mail client or server that sees the rare repeat (sent again
after an attempt was interrupted between the server's acceptance and our record of it) can drop it.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from core.config import Smtp
from core.errors import DeliveryError
from core.store import OutboxMessage


def build_email(m: OutboxMessage, *, sender: str) -> EmailMessage:
    """The email for one outbox message to its recipient."""
    msg = EmailMessage()
    msg["Subject"] = m.subject
    msg["From"] = sender
    msg["To"] = m.recipient
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = f"<{m.id}@modelpulse>"
    msg["X-ModelPulse-Kind"] = m.kind
    if m.model:
        msg["X-ModelPulse-Model"] = m.model
    msg.set_content(m.body_text)
    if m.body_html:
        msg.add_alternative(m.body_html, subtype="html")
    return msg


def send_email(m: OutboxMessage, *, smtp: Smtp | None, context: ssl.SSLContext | None = None) -> None:
    """Send one message; DeliveryError with a sentence (never the password) when the server refuses."""
    if smtp is None:
        raise DeliveryError(
            "No mail server is set: add a [modelpulse.smtp] table (host, port, username, password) to secrets.toml."
        )
    try:
        context = context or ssl.create_default_context(cafile=smtp.ca_file)
    except (OSError, ssl.SSLError):
        raise DeliveryError(f"The smtp ca_file {smtp.ca_file} could not be read as certificates.") from None
    where = f"{smtp.host}:{smtp.port}"
    try:
        if smtp.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=context)
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        with client:
            if smtp.security == "starttls":
                client.starttls(context=context)
            if smtp.username:
                client.login(smtp.username, smtp.password or "")
            client.send_message(build_email(m, sender=smtp.sender))
    except smtplib.SMTPAuthenticationError:
        raise DeliveryError(f"The mail server {where} refused the username or password in secrets.toml.") from None
    except smtplib.SMTPNotSupportedError:
        raise DeliveryError(
            f'The mail server {where} does not offer STARTTLS; set smtp security to "tls" or "none".'
        ) from None
    except smtplib.SMTPRecipientsRefused:
        raise DeliveryError(f"The mail server {where} refused the address {m.recipient}.") from None
    except smtplib.SMTPResponseException as exc:
        reply = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        raise DeliveryError(f"The mail server {where} refused the message ({exc.smtp_code} {reply[:120]}).") from None
    except ssl.SSLError as exc:
        raise DeliveryError(f"The secure connection to {where} failed ({exc.reason}).") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"The mail server {where} could not be reached ({exc}).") from None
