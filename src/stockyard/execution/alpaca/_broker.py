"""``AlpacaBroker``: the ``Broker`` interface on Alpaca (paper, live, or the local sandbox),
through alpaca-py's ``TradingClient`` (REST) and ``TradingStream`` (trade updates).

alpaca-py's REST calls block, so each runs in a worker thread. Every call goes through one
circuit breaker, which counts what the caller sees: calls that are safe to repeat (reads,
cancels) are retried under the NETWORK retry policy *inside* the breaker, so a blip that a
retry hides is no failure; ``submit`` and ``replace`` are tried once: after a failure the
order manager looks the order up by its client order id before anything is sent again. The
breaker's cooldown backs off (2 s, doubling after each failed trial, at most 30 s).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

import requests

from stockyard.config import AlpacaSettings, ConfigError
from stockyard.core import Account, Fill, Order, OrderRequest, Position
from stockyard.execution._broker import (
    BrokerCapabilities,
    BrokerListener,
    DuplicateClientOrderIdError,
    ReplaceRequest,
)
from stockyard.execution.alpaca._sdk import APIError, TradingClient
from stockyard.execution.alpaca._stream import UpdateStream
from stockyard.execution.alpaca._wire import (
    account_from_json,
    activity_fill,
    order_from_json,
    position_from_json,
    replace_json,
    request_json,
)
from stockyard.execution.sim import ExchangeError, TradeUpdate
from stockyard.obs import get_logger
from stockyard.resilience import (
    CircuitBreaker,
    ErrorCategory,
    ErrorRegistry,
    InvalidDataError,
    PacedAdapter,
    RateLimiter,
    StockyardError,
    async_retry_policy,
    classify,
    rate_limiter_for,
)

__all__ = ["ALPACA_CAPABILITIES", "AlpacaBroker", "VenueProbe"]

ALPACA_CAPABILITIES = BrokerCapabilities(name="alpaca")

_REFUSALS = frozenset({403, 404, 422})
_PAGE = 500
_log = get_logger("execution")


@dataclass(frozen=True, slots=True)
class VenueProbe:
    """One look at the venue: the HTTP status it answered (``None``: nothing answered), how
    long it took, the parsed JSON body of a 2xx answer, and what went wrong otherwise."""

    url: str
    status: int | None
    latency_ms: float
    body: object = None
    detail: str = ""

    @property
    def refused_keys(self) -> bool:
        """The venue answered, and refused the keys (401 or 403)."""
        return self.status in (401, 403)


class AlpacaBroker:
    """One Alpaca account as a ``Broker``. ``base_url`` is the trading API (the sandbox by
    default in settings); the trade-update stream is ``{ws base}/stream`` unless given."""

    def __init__(
        self,
        *,
        key_id: str,
        secret_key: str,
        base_url: str,
        stream_url: str | None = None,
        timeout_s: float = 10.0,
        breaker: CircuitBreaker | None = None,
        registry: ErrorRegistry | None = None,
        retry_attempts: int | None = None,
        retry_sleep: Callable[[float], Awaitable[None]] | None = None,
        reconnect_min_s: float = 1.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        capabilities: BrokerCapabilities = ALPACA_CAPABILITIES,
        requests_per_minute: int | None = None,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        if not key_id or not secret_key:
            raise ConfigError("alpaca.key_id and alpaca.secret_key are required")
        self.base_url = base_url.rstrip("/")
        self.stream_url = stream_url or _stream_url(self.base_url)
        self._key, self._secret = key_id, secret_key
        self._timeout_s = timeout_s
        self._breaker = breaker or CircuitBreaker(
            "alpaca.trading", category=ErrorCategory.API, cooldown_s=2.0, max_cooldown_s=30.0
        )
        self._registry = registry
        self._attempts = retry_attempts
        self._sleep = retry_sleep
        self._reconnect_min_s = reconnect_min_s
        self._clock = clock
        self._capabilities = capabilities
        # The key's one pace in the process (shared with the data source), or an injected one.
        self._limiter: RateLimiter | None = rate_limiter
        if rate_limiter is None and requests_per_minute is not None:
            self._limiter = rate_limiter_for(key_id, per_minute=requests_per_minute)
        self._client: TradingClient | None = None
        self._probe_session: requests.Session | None = None
        self._probe_lock = threading.Lock()
        self._stream: UpdateStream | None = None
        self._stream_task: asyncio.Task[None] | None = None
        self._listeners: list[BrokerListener] = []
        self._coids: dict[str, str] = {}  # broker order id → client order id
        self.account_id = ""

    @classmethod
    def from_settings(cls, settings: AlpacaSettings, **options: object) -> AlpacaBroker:
        """From the ``[alpaca]`` settings: keys (secret), ``base_url``, optional stream URL."""
        if settings.key_id is None or settings.secret_key is None:
            missing = "alpaca.key_id" if settings.key_id is None else "alpaca.secret_key"
            raise ConfigError(f"{missing} is required to trade on {settings.base_url}")
        options.setdefault("requests_per_minute", settings.requests_per_minute)
        return cls(
            key_id=settings.key_id.get_secret_value(),
            secret_key=settings.secret_key.get_secret_value(),
            base_url=settings.base_url,
            **options,  # type: ignore[arg-type]
        )

    @property
    def capabilities(self) -> BrokerCapabilities:
        return self._capabilities

    @property
    def breaker(self) -> CircuitBreaker:
        return self._breaker

    @property
    def rate_limiter(self) -> RateLimiter | None:
        """The key's pace (shared with every client of the key in this process), or None."""
        return self._limiter

    # -- life ---------------------------------------------------------------------------

    async def connect(self) -> None:
        if self._client is None:
            client = TradingClient(self._key, self._secret, url_override=self.base_url)
            # alpaca-py has no public switch for these. One retry policy (ours): it would
            # otherwise sleep and retry 429s itself; and it sends requests without a timeout.
            client._retry = 0
            adapter = PacedAdapter(self._limiter, timeout_s=self._timeout_s)
            client._session.mount("http://", adapter)
            client._session.mount("https://", adapter)
            self._client = client
        account = await self._read("GET", "/account")
        self.account_id = str(_mapping(account)["id"])
        if self._stream_task is None:
            self._stream = UpdateStream(
                self._key,
                self._secret,
                url=self.stream_url,
                account_id=self.account_id,
                on_update=self._dispatch,
                on_reconnect=self._reconnected,
                reconnect_min_s=self._reconnect_min_s,
            )
            self._stream_task = asyncio.get_running_loop().create_task(self._stream.serve())
            await self._stream.wait_listening(self._timeout_s)

    async def close(self) -> None:
        task, self._stream_task = self._stream_task, None
        if self._stream is not None:
            await self._stream.shutdown()
            self._stream = None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        client, self._client = self._client, None
        if client is not None:
            client._session.close()  # release pooled sockets
        with self._probe_lock:
            session, self._probe_session = self._probe_session, None
        if session is not None:
            session.close()

    def probe(self, path: str = "/v2/account", *, timeout_s: float = 5.0) -> VenueProbe:
        """One GET of ``path`` on the venue with this broker's keys, outside its breaker
        and its retries, paced by the key's rate limiter: a health check's look at the
        account the node trades (``/v2/account``), or the sandbox's ``/sandbox/status``.
        Blocking (call it from a worker thread); never raises."""
        url = f"{self.base_url}{path}"
        headers = {"APCA-API-KEY-ID": self._key, "APCA-API-SECRET-KEY": self._secret}
        with self._probe_lock:
            session = self._probe_session
            if session is None:
                session = self._probe_session = requests.Session()
                adapter = PacedAdapter(self._limiter, timeout_s=timeout_s)
                session.mount("http://", adapter)
                session.mount("https://", adapter)
        started = time.perf_counter()
        try:
            response = session.get(url, headers=headers, timeout=timeout_s)
        except requests.RequestException as exc:
            ms = round((time.perf_counter() - started) * 1000, 3)
            return VenueProbe(url, None, ms, detail=f"{type(exc).__name__}: {_first_line(exc)}")
        ms = round((time.perf_counter() - started) * 1000, 3)
        if response.status_code >= 300:
            return VenueProbe(url, response.status_code, ms, detail=response.text[:200])
        try:
            body = response.json()
        except ValueError:
            body = None
        return VenueProbe(url, response.status_code, ms, body=body)

    def subscribe(self, listener: BrokerListener) -> Callable[[], None]:
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def _dispatch(self, update: TradeUpdate) -> None:
        self._coids[update.order.id] = update.order.client_order_id
        for listener in tuple(self._listeners):
            listener.on_trade_update(update)

    def _reconnected(self) -> None:
        _log.warning("alpaca trade stream reconnected", url=self.stream_url)
        for listener in tuple(self._listeners):
            listener.on_reconnect()

    # -- orders -------------------------------------------------------------------------

    async def submit(self, request: OrderRequest) -> Order:
        try:
            data = await self._once("POST", "/orders", request_json(request))
        except ExchangeError as exc:
            raise _duplicate(exc, request.client_order_id) from exc
        return self._order(data)

    async def cancel(self, order_id: str) -> None:
        await self._read("DELETE", f"/orders/{order_id}")

    async def replace(self, order_id: str, change: ReplaceRequest) -> Order:
        try:
            data = await self._once("PATCH", f"/orders/{order_id}", replace_json(change))
        except ExchangeError as exc:
            raise _duplicate(exc, change.client_order_id) from exc
        return self._order(data)

    async def get_order(self, order_id: str) -> Order | None:
        try:
            return self._order(await self._read("GET", f"/orders/{order_id}"))
        except ExchangeError as exc:
            if exc.code == 404:
                return None
            raise

    async def get_order_by_client_id(self, client_order_id: str) -> Order | None:
        try:
            data = await self._read(
                "GET", "/orders:by_client_order_id", {"client_order_id": client_order_id}
            )
        except ExchangeError as exc:
            if exc.code == 404:
                return None
            raise
        return self._order(data)

    async def open_orders(self) -> list[Order]:
        query = {"status": "open", "limit": _PAGE, "direction": "asc"}
        return [self._order(o) for o in _rows(await self._read("GET", "/orders", query))]

    async def orders(self, *, since: datetime | None = None) -> list[Order]:
        query: dict[str, object] = {"status": "all", "limit": _PAGE, "direction": "asc"}
        if since is not None:
            query["after"] = since.astimezone(UTC).isoformat()
        return [self._order(o) for o in _rows(await self._read("GET", "/orders", query))]

    async def positions(self) -> list[Position]:
        return [position_from_json(p) for p in _rows(await self._read("GET", "/positions"))]

    async def account(self) -> Account:
        return account_from_json(_mapping(await self._read("GET", "/account")), now=self._clock())

    async def venue_time(self) -> datetime:
        """The venue's clock (``GET /v2/clock``): wall time on Alpaca, the replay clock on
        the local sandbox."""
        stamp = _mapping(await self._read("GET", "/clock"))["timestamp"]
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).astimezone(UTC)

    async def fills(self, *, since: datetime | None = None) -> list[Fill]:
        """``FILL`` activities, every page; each named by our client order id."""
        query: dict[str, object] = {"direction": "asc", "page_size": 100}
        if since is not None:
            query["after"] = since.astimezone(UTC).isoformat()
        rows: list[Mapping[str, object]] = []
        while True:
            page = _rows(await self._read("GET", "/account/activities/FILL", dict(query)))
            rows.extend(page)
            if len(page) < 100:
                break
            query["page_token"] = str(page[-1]["id"])
        fills: list[Fill] = []
        for row in rows:
            order_id = str(row["order_id"])
            coid = self._coids.get(order_id)
            if coid is None:
                order = await self.get_order(order_id)
                if order is None:
                    continue
                coid = order.client_order_id
            fills.append(activity_fill(row, client_order_id=coid))
        return fills

    # -- transport ----------------------------------------------------------------------

    def _order(self, data: object) -> Order:
        order = order_from_json(_mapping(data))
        self._coids[order.id] = order.client_order_id
        return order

    async def _read(
        self, method: str, path: str, data: Mapping[str, object] | None = None
    ) -> object:
        """A call that is safe to repeat: retried under the NETWORK policy, and the breaker
        told once, of the outcome the caller gets."""
        policy = async_retry_policy(
            ErrorCategory.NETWORK,
            max_attempts=self._attempts,
            component="execution",
            sleep=self._sleep,
            registry=self._registry,
        )
        return await self._breaker.call_async(
            policy, asyncio.to_thread, self._request, method, path, data
        )

    async def _once(
        self, method: str, path: str, data: Mapping[str, object] | None = None
    ) -> object:
        """One call, through the breaker, in a worker thread; errors become ours."""
        return await self._breaker.call_async(asyncio.to_thread, self._request, method, path, data)

    def _request(self, method: str, path: str, data: Mapping[str, object] | None) -> object:
        client = self._client
        if client is None:
            raise ConfigError("the Alpaca broker is not connected; call connect() first")
        started = time.perf_counter()
        verbs: dict[str, Callable[..., object]] = {
            "GET": client.get,
            "POST": client.post,
            "PATCH": client.patch,
            "DELETE": client.delete,
        }
        try:
            return verbs[method](path, dict(data) if data else None)
        except Exception as exc:
            raise _translate(exc) from exc
        finally:
            elapsed = time.perf_counter() - started
            if elapsed > self._timeout_s / 2:
                _log.warning(
                    "slow alpaca call", method=method, path=path, seconds=round(elapsed, 3)
                )


def _translate(exc: Exception) -> StockyardError:
    """An order refusal (403, 404, 422) becomes ``ExchangeError`` with Alpaca's status and
    message; everything else is classified (network, 5xx, 429, ...)."""
    if isinstance(exc, APIError):
        status = exc.status_code
        if isinstance(status, int) and status in _REFUSALS:
            try:
                message = str(exc.message)
            except ValueError:
                message = str(exc)
            return ExchangeError(status, message)
    return classify(exc)


def _duplicate(exc: ExchangeError, client_order_id: str | None) -> ExchangeError:
    if exc.code == 422 and client_order_id and "client_order_id must be unique" in exc.message:
        return DuplicateClientOrderIdError(client_order_id)
    return exc


def _mapping(data: object) -> Mapping[str, object]:
    if not isinstance(data, Mapping):
        raise InvalidDataError(f"unexpected answer from the broker: {type(data).__name__}")
    return cast(Mapping[str, object], data)


def _rows(data: object) -> list[Mapping[str, object]]:
    if not isinstance(data, list):
        raise InvalidDataError(f"unexpected answer from the broker: {type(data).__name__}")
    return [cast(Mapping[str, object], row) for row in data if isinstance(row, Mapping)]


def _stream_url(base_url: str) -> str:
    scheme, _, rest = base_url.partition("://")
    ws = {"https": "wss", "http": "ws"}.get(scheme, scheme)
    return f"{ws}://{rest.split('/', 1)[0]}/stream"


def _first_line(exc: BaseException) -> str:
    """The exception's text, first line only and short (requests' errors nest reprs)."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
