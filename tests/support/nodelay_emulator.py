"""``python -m tests.support.nodelay_emulator --port 0 --emulator tests.emulators.manage [flags]``: an
emulator whose sockets send at once (TCP_NODELAY). The stock handler writes headers and body in two
sends, and Nagle's algorithm then holds the body for the client's delayed ACK: a suite of thousands
of short module runs spends most of its time waiting for that."""

import runpy
import socketserver
import sys


def main(argv):
    target = argv[argv.index("--emulator") + 1]
    rest = [arg for index, arg in enumerate(argv) if arg != "--emulator" and argv[index - 1] != "--emulator"]
    # On the base class, so it holds wherever the emulators keep their handler.
    socketserver.StreamRequestHandler.disable_nagle_algorithm = True
    sys.argv = [target] + rest
    runpy.run_module(target, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
