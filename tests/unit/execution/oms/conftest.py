"""Shared helpers for the order manager's tests (``memory_broker``)."""

from __future__ import annotations

import sys
from pathlib import Path

# pytest imports test modules by path (importlib mode): put the shared helpers on the path.
sys.path.insert(0, str(Path(__file__).parent))
