"""Where alerts go: the log always, a webhook, and Slack / Telegram / e-mail via apprise."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import httpx

from stockyard.config import Settings
from stockyard.health._alerts import AlertEvent, AlertSeverity
from stockyard.obs._logging import get_logger

__all__ = [
    "AppriseNotifier",
    "LogNotifier",
    "Notifier",
    "WebhookNotifier",
    "build_notifiers",
    "event_payload",
]

_log = get_logger("health")


@runtime_checkable
class Notifier(Protocol):
    """Delivers alert events. Raising is allowed: the caller logs the failure and goes on."""

    name: str

    async def notify(self, event: AlertEvent) -> None:
        """Deliver ``event``."""


def event_payload(event: AlertEvent, *, service_id: str) -> dict[str, object]:
    """The JSON a webhook receives."""
    return {"event": event.kind, "service": service_id, "alert": event.alert.to_dict()}


class LogNotifier:
    """Every raise and resolve as a log line of component ``health``."""

    name = "log"

    async def notify(self, event: AlertEvent) -> None:
        """Log ``event``: critical as error, others as warning; a resolution as info."""
        alert = event.alert
        fields = {
            "alert_id": alert.id,
            "rule": alert.rule,
            "subject": alert.subject,
            "severity": alert.severity.value,
            "summary": alert.summary,
        }
        if event.kind == "resolved":
            _log.info("alert resolved", **fields)
        elif alert.severity is AlertSeverity.CRITICAL:
            _log.error("alert raised", **fields)
        else:
            _log.warning("alert raised", **fields)


class WebhookNotifier:
    """POSTs ``event_payload`` as JSON to one URL; a non-2xx answer raises."""

    name = "webhook"

    def __init__(
        self,
        url: str,
        *,
        service_id: str = "stockyard",
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._url = url
        self._service_id = service_id
        self._timeout = timeout
        self._transport = transport

    async def notify(self, event: AlertEvent) -> None:
        """POST the event; raises ``httpx.HTTPError`` on failure."""
        body = json.dumps(event_payload(event, service_id=self._service_id), default=str)
        async with httpx.AsyncClient(timeout=self._timeout, transport=self._transport) as client:
            response = await client.post(
                self._url, content=body, headers={"content-type": "application/json"}
            )
            response.raise_for_status()


_APPRISE_TYPE = {  # names of apprise.NotifyType members
    AlertSeverity.INFO: "INFO",
    AlertSeverity.WARNING: "WARNING",
    AlertSeverity.CRITICAL: "FAILURE",
}


class AppriseNotifier:
    """Slack, Telegram, e-mail, ... through apprise URLs (``slack://…``, ``tgram://…``)."""

    name = "apprise"

    def __init__(self, urls: Sequence[str]) -> None:
        # Imported only when URLs are configured: apprise loads its plugins (~0.1 s), which
        # every process would otherwise pay at start.
        import apprise  # noqa: PLC0415

        self._types = apprise.NotifyType
        self._apprise = apprise.Apprise()
        bad = [u.split("://", 1)[0] + "://…" for u in urls if not self._apprise.add(u)]
        if bad:
            raise ValueError(f"apprise cannot use these URLs: {', '.join(bad)}")

    def __len__(self) -> int:
        return len(self._apprise)

    async def notify(self, event: AlertEvent) -> None:
        """Send to every URL; raises RuntimeError when apprise reports a failure."""
        alert = event.alert
        title = f"[{alert.severity.value}] {alert.rule} {event.kind}"
        name = "SUCCESS" if event.kind == "resolved" else _APPRISE_TYPE[alert.severity]
        result = await self._apprise.async_notify(
            body=alert.summary, title=title, notify_type=getattr(self._types, name)
        )
        try:
            if not result:
                raise RuntimeError(f"apprise delivered to {result.success_count} of {len(result)}")
        finally:
            result.close()


def build_notifiers(settings: Settings, *, service_id: str = "stockyard") -> list[Notifier]:
    """The log notifier, then the webhook and apprise when configured in ``settings.alerts``."""
    alerts = settings.alerts
    notifiers: list[Notifier] = [LogNotifier()]
    if alerts.webhook_url is not None:
        notifiers.append(
            WebhookNotifier(
                alerts.webhook_url.get_secret_value(),
                service_id=service_id,
                timeout=alerts.notify_timeout,
            )
        )
    if alerts.apprise_urls is not None:
        urls = [u.strip() for u in alerts.apprise_urls.get_secret_value().split(",") if u.strip()]
        if urls:
            notifiers.append(AppriseNotifier(urls))
    return notifiers
