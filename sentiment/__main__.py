"""``python -m sentiment`` runs the command line."""

from sentiment.cli import main

main()
