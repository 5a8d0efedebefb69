"""``tacker-rpc serve``: run a Service as a daemon, under oslo.service.

oslo.service's launcher (cotyledon) stops gracefully on SIGTERM but exits
at once on SIGINT, dropping the requests in flight, and a terminal's
Ctrl-C reaches every process of its group. So ``serve`` runs the launcher
in a child process in its own session and turns SIGINT and SIGTERM into a
SIGTERM of that child: both stop the service gracefully.
"""

import importlib
import inspect
import logging
import os
import signal
import time

from oslo_service import service as oslo_service

from tacker_rpc import exceptions
from tacker_rpc import rpc
from tacker_rpc.cli import common

LOG = logging.getLogger(__name__)


class EchoManager:
    """The manager ``serve`` runs unless ``--manager`` names another."""

    def echo(self, ctxt, value):
        """Return ``value`` unchanged."""
        return value

    def sleep(self, ctxt, seconds):
        """Sleep ``seconds``, then return them (to try timeouts and
        graceful stops)."""
        time.sleep(seconds)
        return seconds


def register(subparsers):
    parser = common.add_subcommand(
        subparsers, "serve",
        "run a daemon serving a topic until SIGTERM or SIGINT",
        description="Run a Service on TOPIC as server HOST with "
                    "oslo.service's launcher, until SIGTERM or SIGINT.")
    common.target_arguments(parser, server=False)
    parser.add_argument("--host",
                        help="server name (default: the host option)")
    parser.add_argument(
        "--manager", metavar="MODULE:CLASS",
        help="class of the manager to serve; built with host=HOST when "
             "its constructor takes host, else with no argument "
             "(default: a built-in manager with echo(value))")
    parser.add_argument(
        "--metrics-port", type=int, metavar="PORT",
        help="serve Prometheus metrics on http://HOST:PORT/metrics "
             "(sets rpc_metrics_port; the address is rpc_metrics_host)")
    parser.set_defaults(run=run, log_level=logging.INFO)


def load_manager(spec, host):
    """An instance of the ``module:Class`` named by ``spec``.

    :raises CommandError: when the module or class cannot be loaded.
    """
    module_name, sep, class_name = spec.partition(":")
    if not sep or not module_name or not class_name:
        raise common.CommandError(
            "--manager %r is not module:Class" % spec)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise common.CommandError("--manager %r: cannot import %s: %s"
                                  % (spec, module_name, exc))
    manager_class = getattr(module, class_name, None)
    if not inspect.isclass(manager_class):
        raise common.CommandError("--manager %r: %s has no class %r"
                                  % (spec, module_name, class_name))
    try:
        parameters = inspect.signature(manager_class).parameters
    except (TypeError, ValueError):
        parameters = {}
    if "host" in parameters:
        return manager_class(host=host)
    return manager_class()


def run(args, out):
    conf = common.load_conf(args, service=True)
    if args.metrics_port is not None:
        try:
            conf.set_override("rpc_metrics_port", args.metrics_port)
        except ValueError as exc:
            raise common.CommandError("--metrics-port: %s" % exc)
    host = args.host or conf.host
    manager = (load_manager(args.manager, host) if args.manager
               else EchoManager())
    return _supervise(
        lambda: _serve(conf, args.topic, host, manager, out), out)


def _supervise(serve, out):
    """Run ``serve()`` in a child process in its own session; SIGINT and
    SIGTERM here become SIGTERM there. Returns the child's exit status."""
    child = None

    def stop_child(signo, frame):
        LOG.info("caught %s: stopping gracefully",
                 signal.Signals(signo).name)
        if child:
            os.kill(child, signal.SIGTERM)

    signal.signal(signal.SIGINT, stop_child)
    signal.signal(signal.SIGTERM, stop_child)
    child = os.fork()
    if child == 0:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.setsid()
        status = common.EXIT_FAILURE
        try:
            serve()
            status = 0
        except common.CommandError as exc:
            common.report_failure(out, str(exc))
        except BaseException:
            LOG.exception("serve failed")
        finally:
            os._exit(status)
    _, status = os.waitpid(child, 0)
    return os.waitstatus_to_exitcode(status)


def _serve(conf, topic, host, manager, out):
    try:
        rpc.init(conf)
    except exceptions.InvalidTransportURL as exc:
        raise common.CommandError(str(exc))
    try:
        service = rpc.Service(host, topic, manager=manager)
        launcher = oslo_service.launch(conf, service)
        out.result(
            {"serving": True, "topic": topic, "host": host,
             "manager": "%s.%s" % (type(manager).__module__,
                                   type(manager).__qualname__),
             "transport_url": conf.transport_url},
            common.format_table(("topic", "host", "manager", "transport"), [[
                topic, host, type(manager).__qualname__,
                conf.transport_url]]))
        launcher.wait()
        LOG.info("service %s on %s stopped", topic, host)
    finally:
        rpc.cleanup()
