"""The command line: parses options, builds the objects the core needs, and maps errors to exit codes.

Nothing here decides anything. Each command lives in its own module and is imported only when it is
run, so that ``plugingate --help`` starts fast (the heavy libraries load lazily).
"""
