"""The `backprop-edu` console script: a Ctrl-C while the program is still starting ends quietly.

The script pip writes runs ``from backprop_edu_start import main`` and then ``main()``.
This module sits outside the backprop_edu package on purpose: importing anything inside
the package first runs backprop_edu/__init__.py (numpy and the whole core, most of the
start-up time), and a Ctrl-C there would end in a traceback before any of our code could
catch it. Here the imports happen inside main(), under a SIGINT handler that notes the
Ctrl-C: numpy turns a KeyboardInterrupt during its own import into an ImportError, so the
note, not the kind of exception, says that the user pressed Ctrl-C.

What is left out: everything else; the command itself is backprop_edu.cli.main.
"""

import signal
import sys


def main():
    """Import the command line (numpy, click, the package) and run it; Ctrl-C: exit 130."""
    pressed = []

    def on_ctrl_c(signum, frame):
        pressed.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_ctrl_c)
    try:
        from backprop_edu.cli import main as command
    except BaseException:
        if not pressed:
            raise                        # a real problem with the installation: show it
        sys.stderr.write("interrupted while starting\n")
        sys.exit(130)
    finally:
        signal.signal(signal.SIGINT, previous)
    return command()
