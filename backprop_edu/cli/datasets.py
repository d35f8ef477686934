"""`backprop-edu datasets`: the data sets --data knows by name, with their shapes and classes;
one shipped data set as a CSV file.

    backprop-edu datasets                   the list
    backprop-edu datasets iris -o my.csv    the Iris data as a CSV file of your own

The shipped ones are in the package; mnist and fashion-mnist are downloaded on first use,
and the list says whether they are on this machine yet (and where) or what a download takes.

What is left out: the data itself (backprop_edu.datasets reads and writes it,
backprop_edu.mnist downloads).
"""

import io

import click

from backprop_edu import datasets, mnist
from backprop_edu.cli.options import output_path
from backprop_edu.files import atomic_file


@click.command(name="datasets")
@click.argument("name", required=False, type=click.Choice(datasets.SHIPPED))
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              callback=output_path,
              help="With NAME: write its CSV to this file. [default: standard output]")
def list_datasets(name, output):
    """List the data sets --data knows by name, with their shapes and number of classes; with
    NAME (a shipped one), write that data set as a CSV file: a header row, the numeric
    features, the target column last.

    Any of them goes to --data; so does the path of your own CSV file, in the form NAME
    writes (give its target column with --target). mnist and fashion-mnist are downloaded on
    first use (into $BACKPROP_EDU_DATA when it is set) and read from there afterwards; the
    list says whether they are here yet.

    \b
    Examples:
      backprop-edu datasets
      backprop-edu datasets iris -o my.csv
      backprop-edu train --data my.csv --target species --layers 4,16,3
    """
    if name is not None:
        dataset = datasets.load(name)
        if output is None:
            text = io.StringIO()
            datasets.write_csv(dataset, text)
            click.echo(text.getvalue(), nl=False)
            return
        with atomic_file(output, encoding="utf-8", newline="") as f:
            datasets.write_csv(dataset, f)
        click.echo(f"wrote {output}: {name}, {len(dataset.X)} rows, the features "
                   f"{', '.join(dataset.features[:4])}{', ...' * (len(dataset.features) > 4)} "
                   f"and the target column {dataset.target!r}", err=True)
        return
    if output is not None:
        raise click.UsageError("-o writes one data set: name it, e.g. backprop-edu datasets "
                               "iris -o my.csv")
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
               f"{mnist.data_folder()} (set {mnist.ENVIRONMENT} to choose another folder). "
               "`backprop-edu datasets NAME -o FILE` writes a shipped one as a CSV.")
