"""The ``desk`` fixture: an open market where AAPL last traded at 100."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# pytest imports test modules by path (importlib mode): put the shared helpers on the path.
sys.path.insert(0, str(Path(__file__).parent))

from sim_desk import Desk, make_desk


@pytest.fixture
def desk() -> Desk:
    """Open market, AAPL last traded at 100, nothing resting."""
    d = make_desk()
    d.bar(100, 100, 100, 100, advance=False)
    return d
