"""`python -m dselab` is the `dselab` command."""

from dselab.cli import main

main()
