"""The `backprop-edu` console script: a Ctrl-C while the program is still starting ends quietly.

The script pip writes runs ``from backprop_edu_start import main`` and then ``main()``.
This module sits outside the backprop_edu package on purpose: importing anything inside
the package first runs backprop_edu/__init__.py (numpy and the whole core, most of the
start-up time), and a Ctrl-C there would end in a traceback before any of our code could
catch it. Here the imports happen inside main(), where a KeyboardInterrupt is caught.

What is left out: everything else; the command itself is backprop_edu.cli.main.
"""

import sys


def main():
    """Import the command line (numpy, click, the package) and run it; Ctrl-C: exit 130."""
    try:
        from backprop_edu.cli import main as command
    except KeyboardInterrupt:
        sys.stderr.write("interrupted while starting\n")
        sys.exit(130)
    return command()
