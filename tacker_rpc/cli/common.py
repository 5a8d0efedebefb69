"""What every subcommand shares: broker options, configuration, output.

Everything a subcommand prints goes through :class:`Output`, and every log
record through :class:`tacker_rpc.redact.MaskingLogFilter`, so a password
in a transport URL never reaches the terminal.
"""

import argparse
import contextlib
import json
import logging
import sys

from oslo_config import cfg
import oslo_messaging

from tacker_rpc import broker
from tacker_rpc import compat
from tacker_rpc import exceptions
from tacker_rpc import opts
from tacker_rpc import redact
from tacker_rpc import rpc

#: Exit status of a command that ran but found a failure.
EXIT_FAILURE = 1


#: Suffix oslo.messaging gives the class of an exception rebuilt from a
#: server's.
REMOTE_SUFFIX = "_Remote"
REMOTE_TRACEBACK = "Traceback (most recent call last)"


class CommandError(Exception):
    """A failure the command reports as one line, exiting non-zero."""


def connection_arguments():
    """A parent parser with the options every subcommand takes."""
    parser = argparse.ArgumentParser(add_help=False)
    group = parser.add_argument_group("broker")
    group.add_argument(
        "--transport-url", metavar="URL",
        help="oslo.messaging transport URL, e.g. "
             "rabbit://user:password@host:5672/ (overrides the files)")
    group.add_argument(
        "--config-file", metavar="FILE", action="append", default=[],
        help="oslo.config file, as the daemon reads it (repeatable)")
    output = parser.add_argument_group("output")
    output.add_argument("--format", choices=("table", "json"),
                        default="table", help="output format")
    output.add_argument("--debug", action="store_true",
                        help="log what the libraries do, on stderr")
    return parser


def add_subcommand(subparsers, name, summary, description):
    """A subcommand's parser, with the options every subcommand takes."""
    return subparsers.add_parser(
        name, parents=[connection_arguments()], help=summary,
        description=description)


def target_arguments(parser, server=True):
    """Add ``--topic`` (required) and, with ``server``, ``--server``."""
    parser.add_argument("--topic", required=True,
                        help="RPC topic of the service")
    if server:
        parser.add_argument("--server", metavar="HOST",
                            help="send to this server only (topic.HOST)")


def timeout_argument(parser, help_text="seconds to wait for the answer "
                                       "(default: rpc_response_timeout)"):
    parser.add_argument("--timeout", type=positive_float, metavar="S",
                        help=help_text)


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a number" % text)
    if not value > 0:
        raise argparse.ArgumentTypeError("%r must be above 0" % text)
    return value


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a whole number" % text)
    if value < 1:
        raise argparse.ArgumentTypeError("%r must be 1 or more" % text)
    return value


def parse_call_arguments(pairs):
    """``["n=3", "name=x", "v={\\"a\\": 1}"]`` -> ``{"n": 3, "name": "x",
    "v": {"a": 1}}``: each value is JSON when it parses, else the string.

    :raises CommandError: on an item without ``=``, an empty or repeated
        key.
    """
    arguments = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise CommandError("argument %r is not key=value" % pair)
        if key in arguments:
            raise CommandError("argument %r is given twice" % key)
        try:
            arguments[key] = json.loads(text)
        except ValueError:
            arguments[key] = text
    return arguments


def load_conf(args, service=False):
    """A ConfigOpts from ``--config-file`` and ``--transport-url``.

    Only the files given are read; ``service`` registers oslo.service's
    options too.

    :raises CommandError: when no broker is named or a file is unusable.
    """
    if not args.transport_url and not args.config_file:
        raise CommandError("say which broker: --transport-url URL or "
                           "--config-file FILE")
    conf = cfg.ConfigOpts()
    cli_args = []
    for path in args.config_file:
        cli_args += ["--config-file", path]
    try:
        conf(cli_args, project="tacker_rpc", default_config_files=[],
             default_config_dirs=[])
    except (cfg.ConfigFilesNotFoundError, cfg.ConfigFileParseError) as exc:
        raise CommandError(str(exc))
    opts.register_opts(conf)
    if service:
        for group, options in compat.service_option_groups():
            conf.register_opts(options, group=group)
    if args.transport_url:
        conf.set_override("transport_url", args.transport_url)
    return conf


@contextlib.contextmanager
def rpc_transport(conf):
    """``rpc.init_action_rpc(conf)`` for the block; cleaned up after.

    :raises CommandError: when the transport URL is unusable or, on
        RabbitMQ, no broker host accepts a login (oslo.messaging would
        retry forever).
    """
    try:
        connection = broker.first_connection(conf)
        if connection is not None:
            connection.release()
        rpc.init_action_rpc(conf)
    except (exceptions.InvalidTransportURL, oslo_messaging.InvalidTransportURL,
            broker.BrokerProblem) as exc:
        raise CommandError(str(exc))
    try:
        yield
    finally:
        rpc.cleanup()


def describe_failure(exc, topic, timeout):
    """One line saying why an RPC call to ``topic`` failed."""
    if isinstance(exc, oslo_messaging.MessagingTimeout):
        return ("no answer within %gs from topic %r: is a server running? "
                "(tacker-rpc doctor --topic %s)" % (timeout, topic, topic))
    if isinstance(exc, oslo_messaging.RemoteError):
        return "remote error: %s: %s" % (exc.exc_type, exc.value)
    name = type(exc).__name__
    if name.endswith(REMOTE_SUFFIX):
        return "remote error: %s: %s" % (remote_class_name(exc),
                                         str(exc).splitlines()[0])
    first_argument = exc.args[0] if exc.args else None
    if isinstance(first_argument, str) and REMOTE_TRACEBACK in first_argument:
        # A built-in exception keeps its class; oslo.messaging puts the
        # remote message and traceback in its first argument instead.
        return "remote error: %s: %s" % (name,
                                         first_argument.splitlines()[0])
    return "%s: %s" % (name, exc)


def remote_class_name(exc):
    """The class name a server raised, for an exception rebuilt from it."""
    name = type(exc).__name__
    if name.endswith(REMOTE_SUFFIX):
        return name[:-len(REMOTE_SUFFIX)]
    return name


def call_timeout(args, conf):
    return args.timeout or float(conf.rpc_response_timeout)


class Output:
    """Writes a command's result as a table or as JSON, passwords masked."""

    def __init__(self, fmt, stream=None):
        self.format = fmt
        self.stream = stream or sys.stdout

    @property
    def json(self):
        return self.format == "json"

    def write(self, text=""):
        self.stream.write(redact.mask_url(text) + "\n")
        self.stream.flush()

    def result(self, data, table):
        """Print ``data`` as JSON, or the text ``table``."""
        if self.json:
            self.write(json.dumps(data, indent=2, sort_keys=True,
                                  default=str))
        else:
            self.write(table)


def report_failure(out, message, errors=None):
    """Say on stderr (and as JSON on stdout with ``--format json``) why
    the command failed; returns the exit status to use.

    ``errors``, a list of dicts, goes in the JSON document as ``"errors"``.
    """
    message = redact.mask_url(message)
    if out.json:
        data = {"error": message}
        if errors is not None:
            data["errors"] = errors
        out.result(data, None)
    sys.stderr.write("tacker-rpc: error: %s\n" % message)
    sys.stderr.flush()
    return EXIT_FAILURE


def report_action_error(out, exc):
    """Report an ``ActionError`` a server raised: its Errors as a table on
    stdout (code, field, message, details), or in the JSON document as
    ``"errors"``, and the one-line reason on stderr."""
    errors = [error.to_dict() for error in exc.errors]
    if not out.json:
        out.write(format_table(
            ("code", "field", "message", "details"),
            [[error["code"], error["field"] or "", error["message"],
              "" if error["details"] is None else error["details"]]
             for error in errors]))
    return report_failure(
        out, "remote error: %s: the server refused the request (%d error%s)"
        % (remote_class_name(exc), len(errors), "" if len(errors) == 1
           else "s"), errors)


def format_table(headers, rows):
    """Rows of cells as aligned text columns under ``headers``."""
    cells = [[str(h) for h in headers]] + [
        [_cell(value) for value in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [format_row(row, widths) for row in cells]
    lines.insert(1, format_row(["-" * width for width in widths], widths))
    return "\n".join(lines)


def format_row(cells, widths):
    """One line of a table: ``cells`` padded to ``widths``."""
    return "  ".join(str(cell).ljust(width) for cell, width
                     in zip(cells, widths, strict=True)).rstrip()


def format_value(value):
    """A call's result as text: a dict as key/value rows, a list of dicts
    as a table, anything else as JSON (strings as they are)."""
    if isinstance(value, dict) and value:
        return format_table(("key", "value"), sorted(value.items()))
    if (isinstance(value, list) and value
            and all(isinstance(item, dict) for item in value)):
        headers = sorted({key for item in value for key in item})
        return format_table(headers, [[item.get(key, "") for key in headers]
                                      for item in value])
    return _cell(value)


def _cell(value):
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def setup_logging(debug, level=logging.WARNING):
    """Log to stderr through the password-masking filter."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(redact.MaskingLogFilter())
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else level)
