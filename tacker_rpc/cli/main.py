"""Entry point of the ``tacker-rpc`` console script.

The command's process runs Services (``serve``, ``demo``) on native
threads: :func:`console_script` selects oslo.service's threading backend
before anything imports ``oslo_messaging``, which would select eventlet
(and print eventlet's deprecation warning). So this module imports the
subcommands, all of which import it, only when it builds the parser.
"""

import argparse
import importlib
import logging
import sys

from tacker_rpc import backend

#: The subcommands' modules, in tacker_rpc.cli, in the order of --help.
SUBCOMMANDS = ("demo", "serve", "calls", "ping", "describe", "doctor",
               "bench", "reqresp")

LOG = logging.getLogger(__name__)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="tacker-rpc",
        description="Run, call and diagnose tacker_rpc services on "
                    "oslo.messaging.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND",
                                       required=True)
    for name in SUBCOMMANDS:
        importlib.import_module("tacker_rpc.cli." + name).register(
            subparsers)
    return parser


def main(argv=None):
    """Run one subcommand; returns (and exits with) its exit status:
    0 on success, 1 on a failure it reports, 2 on bad arguments."""
    args = build_parser().parse_args(argv)
    from tacker_rpc.cli import common  # not at the top: see the docstring
    common.setup_logging(args.debug, getattr(args, "log_level",
                                             logging.WARNING))
    out = common.Output(args.format)
    try:
        status = args.run(args, out)
    except common.CommandError as exc:
        return common.report_failure(out, str(exc))
    except KeyboardInterrupt:
        return common.report_failure(out, "interrupted")
    except Exception as exc:
        LOG.debug("%s failed", args.command, exc_info=True)
        return common.report_failure(out, "%s: %s" % (type(exc).__name__,
                                                      exc))
    return status or 0


def console_script():
    backend.select_threading()
    sys.exit(main())
