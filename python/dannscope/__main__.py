"""`python -m dannscope ...`: the `dannscope` command."""
from ._cli import main

main()
