"""Pre-trade risk: limits, halts, the kill switch; every refusal a coded, reasoned value.

Floor 3. Imports the floors below and ``stockyard.portfolio`` (read-only views) only.
"""

from stockyard.risk._engine import RiskEngine
from stockyard.risk._throttle import Throttle
from stockyard.risk._values import LastPrice, RiskCode, RiskRejection

__all__ = ["LastPrice", "RiskCode", "RiskEngine", "RiskRejection", "Throttle"]
