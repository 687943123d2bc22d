"""What the broker check says is served without a key: no credentials of the URL and no
secret a venue or a proxy echoes back."""

from __future__ import annotations

from stockyard.engine._node_health import _probed
from stockyard.execution.alpaca import VenueProbe
from stockyard.health import HealthStatus


def test_the_broker_url_is_shown_without_its_user_password_and_path() -> None:
    probe = VenueProbe("https://alice:hunter22@proxy.example:8443/v2/account", 200, 3.0)
    seen = _probed("broker alpaca", probe)
    assert seen.status is HealthStatus.PASS
    assert "https://proxy.example:8443" in seen.output
    assert "hunter22" not in seen.output
    assert "alice" not in seen.output


def test_an_echoed_secret_header_in_an_error_answer_is_redacted() -> None:
    echoed = '{"headers": {"APCA-API-SECRET-KEY": "sk_live_abcdef123456", "x": "y"}}'
    probe = VenueProbe("https://paper-api.alpaca.markets/v2/account", 502, 9.0, detail=echoed)
    seen = _probed("broker alpaca", probe)
    assert seen.status is HealthStatus.FAIL
    assert "HTTP 502" in seen.output
    assert "sk_live_abcdef123456" not in seen.output
