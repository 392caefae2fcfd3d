"""The command line's entry: `python -m bot …` and the `sp-adviser` script both start here."""

import signal
import sys


def main() -> int:
    if sys.argv[1:2] == ["chat"] and hasattr(signal, "pthread_sigmask"):
        # The terminal chat's Ctrl-C must reach the main thread, the one waiting for keys
        # in readline: a SIGINT the kernel hands to any other thread (numpy's BLAS threads
        # start when it is imported, below) only sets Python's flag, and readline goes on
        # waiting for a key. Blocked here, before any thread exists, every thread inherits
        # the block; the chat unblocks it on the main thread alone once it is ready
        # (terminal.run_chat).
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    from bot.cli import main as run  # after the mask: the threads its imports start inherit it

    return run()


if __name__ == "__main__":
    sys.exit(main())
