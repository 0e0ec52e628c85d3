"""Alerts to a person: Telegram's Bot API when configured, the log otherwise."""

from __future__ import annotations

import logging
from typing import Protocol

import httpx

from app.settings import Settings

log = logging.getLogger("mc.notify")
TIMEOUT_S = 5.0  # an alert that cannot go out in a few seconds is retried by the next pass instead
MAX_TEXT = 4096  # Telegram refuses longer messages


class Notifier(Protocol):
    """Sends one alert; True when it went out (False: keep it for the next try)."""

    name: str

    async def send(self, text: str) -> bool:
        """Send `text`; never raise for a network or server failure."""
        ...


class LogNotifier:
    """Writes alerts to the log: for when no Telegram bot is configured."""

    name = "the log"

    async def send(self, text: str) -> bool:
        """Log the alert; that always succeeds."""
        log.warning("ALERT %s", text)
        return True


class TelegramNotifier:
    """POSTs alerts to {api_base}/bot{token}/sendMessage."""

    name = "Telegram"

    def __init__(self, api_base: str, token: str, chat_id: str) -> None:
        self._url = f"{api_base.rstrip('/')}/bot{token}/sendMessage"
        self._chat_id = chat_id

    async def send(self, text: str) -> bool:
        """Send one message; a non-2xx answer or a network error is "not sent"."""
        payload = {"chat_id": self._chat_id, "text": text[:MAX_TEXT]}
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
                response = await client.post(self._url, json=payload)
        except httpx.HTTPError as exc:
            # Only the exception's kind: its text may carry the URL, and the URL carries the bot token.
            log.warning("Telegram alert not sent (%s); the next pass retries it", type(exc).__name__)
            return False
        if not response.is_success:
            log.warning("Telegram alert not sent (HTTP %s); the next pass retries it", response.status_code)
            return False
        return True


def notifier_for(settings: Settings) -> Notifier:
    """Telegram when both its bot token and chat id are set, else the log."""
    if settings.telegram_bot_token and settings.telegram_chat_id:
        return TelegramNotifier(settings.telegram_api_base, settings.telegram_bot_token, settings.telegram_chat_id)
    return LogNotifier()
