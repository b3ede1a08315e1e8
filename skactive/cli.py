"""The ``skactive`` command.

``skactive select`` picks the rows of your own pool file to label next and
says what the stopping rules think; ``skactive compare`` simulates batch
active learning with several strategies and reports the papers' statistics
(:mod:`skactive.experiments`).

Errors in the options or the data end the command with one line on stderr
and a non-zero exit status (2 for a bad option, 1 otherwise).
"""

import argparse
import sys

from .exceptions import CommandError, UsageError
from .experiments import _compare, _select

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    # argparse prints the usage and exits; we want one line and our own exit code.
    def error(self, message):
        raise UsageError(message)


def _build_parser():
    parser = _Parser(prog="skactive", description="Batch active learning for scikit-learn.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    _compare.add_parser(commands)
    _select.add_parser(commands)
    return parser


def _one_line(exc):
    return " ".join(str(exc).split()) or type(exc).__name__


def main(argv=None):
    """Run the ``skactive`` command; return its exit status.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments after the program name; default ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 2 for a bad option, 1 for any other error.

    Examples
    --------
    >>> from skactive.cli import main
    >>> main(["compare", "--rounds", "0"])
    2
    """
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
        return args.run(args)
    except UsageError as exc:
        print(f"skactive: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except (CommandError, ValueError, TypeError, OSError, ImportError) as exc:
        print(f"skactive: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("skactive: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
