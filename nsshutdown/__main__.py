"""`python -m nsshutdown` is the same as the `nsshutdown` console script."""

from nsshutdown.cli.main import main

main()
