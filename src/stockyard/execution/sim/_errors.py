"""Errors the simulated exchange raises: Alpaca's HTTP status and Alpaca's wording."""

from __future__ import annotations

from stockyard.resilience import OrderRejectedError

__all__ = [
    "AccountNotFoundError",
    "ExchangeError",
    "ForbiddenError",
    "InvalidRequestError",
    "NotCancelableError",
    "OrderNotFoundError",
    "PositionNotFoundError",
    "UnknownSymbolError",
]


class ExchangeError(OrderRejectedError):
    """A request the exchange refused. ``code`` is the HTTP status Alpaca answers with;
    ``message`` is Alpaca's text; ``api_code`` is Alpaca's eight-digit body code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message, context={"code": code})
        self.code = code

    @property
    def api_code(self) -> int:
        return self.code * 100_000

    def __str__(self) -> str:
        return f"{self.code} {self.message}"


class ForbiddenError(ExchangeError):
    """403: insufficient buying power or quantity, shorting or PDT protection."""

    def __init__(self, message: str) -> None:
        super().__init__(403, message)


class InvalidRequestError(ExchangeError):
    """422: the request is well formed but not acceptable."""

    def __init__(self, message: str) -> None:
        super().__init__(422, message)


class UnknownSymbolError(ExchangeError, LookupError):
    """A symbol nobody here knows: 422 on orders (``asset "XYZ" not found``), 404 from
    ``SimExchange.asset`` and from a strategy's ``MarketView`` (the one error for it)."""

    def __init__(self, symbol: str, *, code: int = 422, message: str | None = None) -> None:
        super().__init__(code, message or f'asset "{symbol}" not found')
        self.symbol = symbol


class NotCancelableError(ExchangeError):
    """422: the order is in a state that cannot be canceled or replaced."""

    def __init__(self, message: str) -> None:
        super().__init__(422, message)


class OrderNotFoundError(ExchangeError):
    def __init__(self, message: str = "order not found") -> None:
        super().__init__(404, message)


class PositionNotFoundError(ExchangeError):
    def __init__(self, message: str = "position does not exist") -> None:
        super().__init__(404, message)


class AccountNotFoundError(ExchangeError):
    def __init__(self, account_id: str) -> None:
        super().__init__(404, f"account {account_id!r} not found")
