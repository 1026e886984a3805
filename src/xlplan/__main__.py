"""``python -m xlplan …``: the same as the ``xlplan`` command."""

from xlplan.cli import main

main()
