"""Entry point of the ``tacker-rpc`` console script."""

import argparse
import logging
import sys

from tacker_rpc.cli import bench
from tacker_rpc.cli import calls
from tacker_rpc.cli import common
from tacker_rpc.cli import demo
from tacker_rpc.cli import describe
from tacker_rpc.cli import doctor
from tacker_rpc.cli import ping
from tacker_rpc.cli import reqresp
from tacker_rpc.cli import serve

SUBCOMMANDS = (demo, serve, calls, ping, describe, doctor, bench, reqresp)

LOG = logging.getLogger(__name__)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="tacker-rpc",
        description="Run, call and diagnose tacker_rpc services on "
                    "oslo.messaging.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND",
                                       required=True)
    for module in SUBCOMMANDS:
        module.register(subparsers)
    return parser


def main(argv=None):
    """Run one subcommand; returns (and exits with) its exit status:
    0 on success, 1 on a failure it reports, 2 on bad arguments."""
    args = build_parser().parse_args(argv)
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
    sys.exit(main())
