"""ParameterError: a bad argument named as Python names it, so that the CLI can name its flag.

    raise ParameterError("val_split", "{m} samples leave nothing to train on with "
                         "val_split={value}: use a smaller val_split", m=m, value=val_split)

The message is a str.format template and its values. A Python user reads it as it is:
it names the parameter (val_split). The command line (backprop_edu.cli) shows the
same message with the flag instead (--val-split): ``error.naming(flag)`` writes the
parameter's name in the template as the flag, and ``val_split={value}`` as
``--val-split {value}``. Only the template is rewritten, never the values (a file
path or a column name that happens to read "target" stays as it is), and the template
uses the parameter's name for the parameter only.

What is left out: every other error, which is a plain ValueError (or OSError) with a
message that names no parameter.
"""

import re


class ParameterError(ValueError):
    """A ValueError about the argument ``parameter`` (its Python name, e.g. "val_split")."""

    def __init__(self, parameter, template, **values):
        super().__init__(template.format(**values))
        self.parameter, self.template, self.values = parameter, template, values

    def naming(self, flag):
        """The message with the parameter written as ``flag``: "val_split={value}" becomes
        "--val-split {value}", "leave task out" becomes "leave --task out"."""
        name = re.escape(self.parameter)
        pattern = rf"(?<![\w{{-]){name}(?:=(['\"]?)([^\s'\",;:)]+)\1)?(?![\w}}-])"
        template = re.sub(pattern, lambda m: flag + (f" {m.group(2)}" if m.group(2) else ""),
                          self.template)
        return template.format(**self.values)
