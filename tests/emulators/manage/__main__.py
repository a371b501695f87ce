"""``python -m tests.emulators.manage --port PORT [--tickets N] ...`` (see ``--help``)."""

from tests.emulators.server import run_main
from tests.emulators.manage import ManageEmulator, add_arguments

if __name__ == "__main__":
    run_main(ManageEmulator.from_args, configure_parser=add_arguments)
