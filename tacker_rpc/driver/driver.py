"""The driver class oslo.messaging loads for ``lean-rabbit://`` URLs."""

from oslo_config import cfg
import oslo_messaging

from tacker_rpc import exceptions
from tacker_rpc.driver import calls
from tacker_rpc.driver import link as link_mod
from tacker_rpc.driver import oslo_hooks
from tacker_rpc.driver import server
from tacker_rpc.driver import wire

#: The lean driver's own options, in ``[oslo_messaging_rabbit]`` beside
#: the ones it shares with oslo.messaging's driver.
lean_opts = [
    cfg.BoolOpt(
        "lean_rabbit_fail_fast_no_consumer",
        default=False,
        help="lean-rabbit:// only. When no queue is bound to a call's topic "
             "(no server ever declared it, or it was deleted), raise "
             "tacker_rpc.exceptions.NoConsumer, a MessagingTimeout, at "
             "once. Calls to that topic then raise it without asking the "
             "broker for rabbit_retry_interval seconds, so a retry loop "
             "does not flood the broker. False (the default) behaves as "
             "oslo.messaging: the call waits for a server until its "
             "timeout, then raises MessagingTimeout."),
]


def _as_rabbit(url):
    """``url`` with the ``rabbit`` scheme, for the inherited kombu paths
    (kombu knows no ``lean-rabbit`` transport)."""
    return oslo_messaging.TransportURL(
        url.conf, transport="rabbit", virtual_host=url.virtual_host,
        hosts=url.hosts, query=url.query)


class LeanRabbitDriver(oslo_hooks.rabbit_driver_class()):
    """oslo.messaging's rabbit driver with its RPC path replaced."""

    #: Calls bound their own publishing and reconnecting by the deadline of
    #: tacker_rpc.deadline: deadline.install leaves this driver alone.
    enforces_call_deadline = True

    def __init__(self, conf, url, default_exchange=None,
                 allowed_remote_exmods=None):
        super().__init__(conf, _as_rabbit(url), default_exchange,
                         allowed_remote_exmods)
        self.conf.register_opts(lean_opts, group="oslo_messaging_rabbit")
        driver_conf = self.conf.oslo_messaging_rabbit
        for option in ("rabbit_stream_fanout", "kombu_compression"):
            if driver_conf[option]:
                raise exceptions.InvalidConfiguration(
                    "[oslo_messaging_rabbit] %s is not supported by the "
                    "lean-rabbit driver; use a rabbit:// transport_url"
                    % option)
        self._layout = wire.Layout(driver_conf)
        self._pool = link_mod.Pool(
            link_mod.Settings.from_conf(driver_conf, url), self._layout,
            max_idle=driver_conf.rpc_conn_pool_size)
        self._caller = calls.Caller(
            self._pool, self._layout, default_exchange,
            self._allowed_remote_exmods,
            fail_fast_no_consumer=(
                driver_conf.lean_rabbit_fail_fast_no_consumer))
        self._replier = server.Replier(self._pool)
        # tacker_rpc.client opens a connection before the first call of a
        # transport while this is None; calls here bound their own.
        self._reply_q = ""

    def send(self, target, ctxt, message, wait_for_reply=None, timeout=None,
             call_monitor_timeout=None, retry=None, transport_options=None):
        return self._caller.send(target, ctxt, message, wait_for_reply,
                                 timeout, call_monitor_timeout, retry,
                                 transport_options)

    def listen(self, target, batch_size, batch_timeout):
        q_manager = self._q_manager
        fanout_id = q_manager.get() if q_manager else wire.new_id()
        return server.Listener(self._pool, self._layout, self._replier,
                               self._get_exchange(target), target,
                               fanout_id, batch_size, batch_timeout)

    def cleanup(self):
        self._pool.close()
        self._reply_q = None
        super().cleanup()
