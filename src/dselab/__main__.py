"""`python -m dselab` is the `dselab` command."""

from dselab.entry import main

main()
