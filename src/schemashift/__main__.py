"""`python -m schemashift`: the same command as the `schemashift` console script."""

from .runtime.launch import main

main()
