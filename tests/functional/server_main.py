"""A daemon as production runs one: rpc.init, then oslo.service's launcher.

    python -m tests.functional.server_main --transport-url URL \
        --topic T --host H [--manager module:Class] [--set name=value ...] \
        [--oslo-log]

A manager spec ``service:module:Class`` names a subclass of rpc.Service,
built without a manager: the Service is then its own manager, as in tacker.
``--oslo-log`` logs through oslo.log (its context formatter shows the
request ids) instead of the standard library's basicConfig.
"""

import argparse
import importlib
import logging
import sys

from oslo_config import cfg
from oslo_log import log as oslo_log
from oslo_messaging import opts as om_opts
from oslo_service import service as oslo_service

from tacker_rpc import compat
from tacker_rpc import opts
from tacker_rpc import rpc


def load_manager(spec, host):
    module_name, _, class_name = spec.partition(":")
    return getattr(importlib.import_module(module_name), class_name)(host)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--transport-url", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--manager",
                        default="tests.functional.managers:TestManager")
    parser.add_argument("--set", action="append", default=[],
                        metavar="[GROUP.]NAME=VALUE",
                        help="override a configuration option (a list: "
                             "comma-separated)")
    parser.add_argument("--oslo-log", action="store_true",
                        help="log through oslo.log")
    args = parser.parse_args(argv)

    conf = cfg.ConfigOpts()
    if args.oslo_log:
        oslo_log.register_options(conf)
    else:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                            format="%(asctime)s %(process)d %(levelname)s "
                                   "%(name)s %(message)s")
    conf([], project="tacker_rpc_test")
    opts.register_opts(conf)
    # oslo.messaging's driver groups ([oslo_messaging_rabbit]) too, so that
    # --set can override them before rpc.init creates the transport.
    for group, options in (compat.service_option_groups()
                           + om_opts.list_opts()):
        conf.register_opts(options, group=group)
    conf.set_override("transport_url", args.transport_url)
    conf.set_override("graceful_shutdown_timeout", 30)
    for item in args.set:
        name, _, value = item.partition("=")
        group, _, name = name.rpartition(".")
        current = conf[group][name] if group else conf[name]
        if isinstance(current, list):
            # A list or multi-valued option ([oslo_messaging_notifications]
            # driver): a comma-separated list.
            value = value.split(",") if value else []
        conf.set_override(name, value, group=group or None)
    if args.oslo_log:
        oslo_log.setup(conf, "tacker_rpc_test")
    rpc.init(conf)
    kind, _, spec = args.manager.partition("service:")
    if not kind and spec:
        module_name, _, class_name = spec.partition(":")
        service_class = getattr(importlib.import_module(module_name),
                                class_name)
        service = service_class(args.host, args.topic)
    else:
        service = rpc.Service(args.host, args.topic,
                              manager=load_manager(args.manager, args.host))
    oslo_service.launch(conf, service).wait()


if __name__ == "__main__":
    main()
