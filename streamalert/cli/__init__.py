"""Command-line entry points: each ``main(argv)`` returns an exit code (0 ok, 1 invalid or failed, 2 usage
or unreadable input); the executables in ``scripts/`` only call them."""
