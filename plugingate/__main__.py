"""``python -m plugingate``: the same entry point as the console script."""

from plugingate.cli.main import main

main()
