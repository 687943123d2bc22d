"""Portfolio: positions, average cost, P&L, cash, fees, equity curve and exposure.

Floor 3. Imports only the floors below; strategy and risk read it through ``PortfolioView``.
"""

from stockyard.portfolio._portfolio import Portfolio
from stockyard.portfolio._values import Correction, EquityPoint, Exposure, PortfolioView

__all__ = ["Correction", "EquityPoint", "Exposure", "Portfolio", "PortfolioView"]
