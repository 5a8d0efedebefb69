"""Configuration helpers shared by the unit and functional tests."""

from oslo_config import cfg

from tacker_rpc import opts

#: oslo.messaging's in-process transport: no broker needed.
MEMORY_URL = "kombu+memory:////"


def make_conf(transport_url, **overrides):
    """A private ConfigOpts with the toolkit's options and ``overrides``.

    An override named ``group__name`` goes to that group.
    """
    conf = cfg.ConfigOpts()
    conf([], project="tacker_rpc_test")
    opts.register_opts(conf)
    conf.set_override("transport_url", transport_url)
    for name, value in overrides.items():
        group, _, name = name.rpartition("__")
        conf.set_override(name, value, group=group or None)
    return conf


def lean_url(transport_url):
    """``transport_url`` (``rabbit://...``) selecting the lean-rabbit
    driver instead."""
    scheme, sep, rest = transport_url.partition("://")
    if scheme != "rabbit" or not sep:
        raise ValueError("not a rabbit:// URL: %s" % scheme)
    return "lean-rabbit://" + rest
