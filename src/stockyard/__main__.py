"""``python -m stockyard`` runs the command line."""

from stockyard.cli import main

main()
