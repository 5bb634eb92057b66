"""`python -m schemashift`: the same command as the `schemashift` console script."""

from .launch import main

main()
