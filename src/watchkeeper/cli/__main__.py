"""``python -m watchkeeper.cli`` is the same as ``wk``."""

from . import main

main()
