"""The sandbox: a local exchange that speaks Alpaca's REST and WebSocket protocols.

The unmodified alpaca-py clients (and any Alpaca client) talk to it through
``url_override``; behind it a ``SimExchange`` fills orders against replayed market data.
"""

from stockyard.sandbox._app import create_app
from stockyard.sandbox._config import DEFAULT_SYMBOLS, SandboxConfig, account_id_for
from stockyard.sandbox._faults import PROFILES, FaultConfig, FaultInjector, load_faults
from stockyard.sandbox._md_stream import StreamLimits
from stockyard.sandbox._reference import CorporateAction, ReferenceData, load_reference
from stockyard.sandbox._replay import ReplayClock, Timeline, parse_speed
from stockyard.sandbox._server import SandboxServer
from stockyard.sandbox._service import Sandbox
from stockyard.sandbox._state import SandboxStateError, StateStore
from stockyard.sandbox._synth import SynthesisConfig, synthesise

__all__ = [
    "DEFAULT_SYMBOLS",
    "PROFILES",
    "CorporateAction",
    "FaultConfig",
    "FaultInjector",
    "ReferenceData",
    "ReplayClock",
    "Sandbox",
    "SandboxConfig",
    "SandboxServer",
    "SandboxStateError",
    "StateStore",
    "StreamLimits",
    "SynthesisConfig",
    "Timeline",
    "account_id_for",
    "create_app",
    "load_faults",
    "load_reference",
    "parse_speed",
    "synthesise",
]
