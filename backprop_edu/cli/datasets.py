"""`backprop-edu datasets`: the data sets --data knows by name, with their shapes and classes.

The shipped ones are in the package; mnist and fashion-mnist are downloaded on first use,
and the list says whether they are on this machine yet (and where) or what a download takes.

What is left out: the data itself (backprop_edu.datasets, backprop_edu.mnist).
"""

import click

from backprop_edu import datasets, mnist


@click.command(name="datasets")
def list_datasets():
    """List the data sets --data knows by name, with their shapes and number of classes.

    Any of them goes to --data; so does the path of your own CSV file. mnist and
    fashion-mnist are downloaded on first use (into $BACKPROP_EDU_DATA when it is set) and
    read from there afterwards; the list says whether they are here yet.
    """
    rows = [("name", "samples", "features", "classes", "what it is")]
    rows += [(name, str(m), str(n), str(k), text) for name, m, n, k, text in datasets.summary()]
    rows += [(name, f"{train}+{test}", str(n), str(k), f"{text}; {state}")
             for name, train, test, n, k, text, state in mnist.summary()]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [row[i].rjust(widths[i]) for i in (1, 2, 3)]
        click.echo("  ".join(cells + [row[4]]))
    click.echo(f"\nFiles in {datasets.DATA_DIR}; the 2-D sets are drawn from a fixed seed. "
               f"{' and '.join(mnist.NAMES)} (train+test samples) live in "
               f"{mnist.data_folder()} (set {mnist.ENVIRONMENT} to choose another folder).")
