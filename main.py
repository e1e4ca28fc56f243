"""IOP Scheduler: the desktop app by default, CLI subcommands for headless work.

    python main.py                      open the app (the demo clinic on first start)
    python main.py --screenshot F.png   solve the demo clinic, save a picture of the window
    python main.py solve|validate|import|export|explain ...   see ``python main.py --help``
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    import cli

    command = [a for a in argv if a not in ("-v", "--verbose")][:1]  # `main.py -v solve ...` too
    if command and command[0] in cli.COMMANDS or argv[:1] in (["-h"], ["--help"]):
        return cli.run(argv)
    from ui.app import run_app

    return run_app(argv)


if __name__ == "__main__":
    sys.exit(main())
