"""`python -m schemashift`: the same CLI as the `schemashift` console script."""

from .cli import main

main()
