"""The ``vq-benchmark`` console script: the Rust CLI compiled into ``vq._vq``, run in this process."""

import signal
import sys

from vq import _vq


def main() -> None:
    """Run ``vq-benchmark`` on ``sys.argv`` and exit with its status."""
    # As the binary behaves: Ctrl-C ends the process at once (the CLI runs with the GIL
    # released, so Python's own handler would only run after the whole command).
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.stdout.flush()
    sys.exit(_vq.run_cli(sys.argv))


if __name__ == "__main__":
    main()
