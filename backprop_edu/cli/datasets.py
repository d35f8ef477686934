"""`backprop-edu datasets`: the shipped data sets, with their shapes and classes.

What is left out: the data itself (backprop_edu.datasets).
"""

import click

from backprop_edu import datasets


@click.command(name="datasets")
def list_datasets():
    """List the shipped data sets, with their shapes and number of classes.

    Any of them goes to --data; so does the path of your own CSV file.
    """
    rows = [("name", "samples", "features", "classes", "what it is")]
    rows += [(name, str(m), str(n), str(k), text) for name, m, n, k, text in datasets.summary()]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [row[i].rjust(widths[i]) for i in (1, 2, 3)]
        click.echo("  ".join(cells + [row[4]]))
    click.echo(f"\nFiles in {datasets.DATA_DIR}; the 2-D sets are drawn from a fixed seed.")
