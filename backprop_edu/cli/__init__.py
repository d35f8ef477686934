"""The `backprop-edu` command: a click group; each subcommand lives in a module beside this one.

The CLI holds no maths: it parses options, calls the package, and prints.
Errors a user can cause become one line on stderr and a non-zero exit code,
never a traceback (set BACKPROP_EDU_DEBUG=1 to see one anyway). The package's
messages name its Python parameters (val_split); a ParameterError is shown here with
the flag instead (--val-split), as a usage error (exit code 2).
Heavy imports (matplotlib) happen inside the commands that draw, so that
`backprop-edu --help` answers at once.
"""

import os
import sys

import click

from backprop_edu import __version__
from backprop_edu.errors import ParameterError


class OneLineUsageError(click.ClickException):
    """A usage error (bad option value, missing argument) shown as one line, exit code 2."""

    exit_code = 2


class Group(click.Group):
    """A click group that lists its commands in the order they were added, and turns any
    uncaught error into one clear line."""

    def list_commands(self, ctx):
        return list(self.commands)  # the order below: train first, the classroom last

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.UsageError as error:  # click would print the usage lines above it
            where = error.ctx.command_path if error.ctx else ctx.command_path
            raise OneLineUsageError(f"{error.format_message()} (see '{where} --help')") from None
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except ParameterError as error:  # the package names its parameter; the user typed a flag
            flag = "--" + error.parameter.replace("_", "-")
            where = f"{ctx.command_path} {ctx.invoked_subcommand}"
            raise OneLineUsageError(f"{error.naming(flag)} (see '{where} --help')") from None
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:  # the reader went away (`| head`): click stops quietly, exit 1
            raise
        except MemoryError:
            raise click.ClickException("ran out of memory: use smaller sizes (widths, depth, "
                                       "batch, data)") from None
        except Exception as error:  # noqa: BLE001 -- the CLI's last line of defence
            if os.environ.get("BACKPROP_EDU_DEBUG"):
                raise
            message = str(error) or type(error).__name__
            if not isinstance(error, (ValueError, TypeError, OSError)):
                message = f"{type(error).__name__}: {message}"
            raise click.ClickException(message) from None


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="backprop-edu")
def main():
    """Backpropagation as the four equations: train networks and watch the gradient flow.

    \b
    Start here:
      backprop-edu train                 train on the shipped digits data
      backprop-edu COMMAND --help        what a command does, and its options
    """


from backprop_edu.cli.train import train  # noqa: E402
from backprop_edu.cli.models import evaluate, predict  # noqa: E402
from backprop_edu.cli.datasets import list_datasets  # noqa: E402

main.add_command(train)
main.add_command(evaluate)
main.add_command(predict)
main.add_command(list_datasets)

from backprop_edu.cli.lab import modes, plot, vanishing  # noqa: E402

main.add_command(plot)
main.add_command(vanishing)
main.add_command(modes)

from backprop_edu.cli.stability import stability  # noqa: E402

main.add_command(stability)

from backprop_edu.cli.adversarial import adversarial, saliency  # noqa: E402

main.add_command(saliency)
main.add_command(adversarial)

from backprop_edu.cli.costs import memory, slowdown  # noqa: E402

main.add_command(memory)
main.add_command(slowdown)

from backprop_edu.cli.example import example  # noqa: E402
from backprop_edu.cli.graph import graph  # noqa: E402

main.add_command(example)
main.add_command(graph)

from backprop_edu.cli.check import gradcheck  # noqa: E402

main.add_command(gradcheck)

from backprop_edu.cli.exercises import exercises  # noqa: E402

main.add_command(exercises)
