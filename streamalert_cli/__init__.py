"""The tooling, run on a laptop or in CI and never in Lambda: the commands (each ``main(argv)`` returns an
exit code: 0 ok, 1 invalid or failed, 2 usage or unreadable input; the executables in ``scripts/`` only
call them), the processor registry, Terraform contexts and rendering, the Lambda packaging and the local
AWS emulator. It imports the runtime (``streamalert/``), never the reverse, and no Lambda zip carries it.
Standard library only at import: ``scripts/*`` import ``streamalert_cli.bootstrap`` before .venv exists."""
