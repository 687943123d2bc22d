"""The Alpaca venue (paper, live, or the local sandbox): the only place alpaca-py's trading
classes are imported."""

from stockyard.execution.alpaca._broker import ALPACA_CAPABILITIES, AlpacaBroker, VenueProbe

__all__ = ["ALPACA_CAPABILITIES", "AlpacaBroker", "VenueProbe"]
