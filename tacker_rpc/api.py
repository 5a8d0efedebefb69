"""Declared RPC APIs: one declaration for the client and the server.

A service declares its API once, in a module both sides import::

    from tacker_rpc import api

    class ConductorAPI(api.RPCAPI):
        \"\"\"The conductor's RPC API.\"\"\"
        topic = "conductor"
        version = "1.3"              # newest version this side speaks

        @api.call(since="1.0")
        def get_vnf(self, ctxt, vnf_id: api.Field(str, "the VNF's id")
                    ) -> dict:
            \"\"\"One VNF by id.\"\"\"

        @api.cast(since="1.2")
        def refresh(self, ctxt, vnf_id: str, force: bool = False):
            \"\"\"Refresh a VNF's state.\"\"\"

The client is an instance: ``ConductorAPI(version_cap=None,
**client_options)`` (options as :func:`tacker_rpc.rpc.get_client`), then
``conductor.get_vnf(ctxt, vnf_id="x")``. The server's manager says what it
implements::

    @api.implements(ConductorAPI)
    class ConductorManager:
        def get_vnf(self, ctxt, vnf_id): ...
        def refresh(self, ctxt, vnf_id, force=False): ...

What a caller may rely on:

* A declared method sends through a :class:`~tacker_rpc.rpc.BackingOffClient`
  on the API's ``topic``, with its ``since`` as the message version, as a
  call or a cast, in its namespace (the API's unless it names one), fanned
  out when declared so. On the wire it is a plain oslo.messaging message:
  plain servers and clients interoperate with declared ones.
* Arguments (by name, or positionally in declared order) are checked
  before anything is sent (:mod:`tacker_rpc.fields`): a missing, unknown
  or mistyped one raises :class:`~tacker_rpc.exceptions.InvalidArguments`
  naming the method and the argument.
* A method newer than the ``version_cap`` raises
  ``oslo_messaging.RPCVersionCapError`` before anything is sent;
  :meth:`RPCAPI.can_send_version` remains for old-style fallbacks.
* Each declared method also has ``call_async(ctxt, ...)`` (a Future),
  ``bind(ctxt, ...)`` (a checked call for
  :func:`tacker_rpc.parallel.call_parallel`) and ``each_server(ctxt, ...,
  hosts=None, timeout=None)`` (:mod:`tacker_rpc.each_server`).
* The server side (:mod:`tacker_rpc.implementation`): a manager that does
  not match its declarations fails when its server is made, and a request
  whose arguments do not match is refused, naming the field, without
  reaching the manager. The status endpoint's ``describe`` returns the
  declarations (``tacker-rpc describe``).
"""

import functools

import oslo_messaging

from tacker_rpc import declaration
from tacker_rpc import each_server as each_server_mod
from tacker_rpc import exceptions
from tacker_rpc import messaging
from tacker_rpc import parallel
from tacker_rpc.declaration import call
from tacker_rpc.declaration import cast
from tacker_rpc.exceptions import InvalidArguments
from tacker_rpc.fields import Field
from tacker_rpc.implementation import implements

__all__ = ["Field", "InvalidArguments", "RPCAPI", "RemoteMethod", "call",
           "cast", "implements"]


class RemoteMethod:
    """A declared method of an :class:`RPCAPI` instance: calling it checks
    the arguments and sends them."""

    __slots__ = ("method", "_api", "_name", "_bind", "_check", "_send",
                 "_capped")

    def __init__(self, api, method):
        self.method = method
        self._api = api
        self._name = method.name
        self._bind = method.bind
        self._check = method.fields.check
        context = api.client.prepare(
            version=method.since, fanout=method.fanout,
            namespace=declaration.namespace_of(type(api), method))
        self._send = getattr(context, method.kind)
        self._capped = not api.client.can_send_version(method.since)

    def __call__(self, ctxt, *args, **kwargs):
        if args:
            kwargs = self._bind(args, kwargs)
        self._check(kwargs)
        if self._capped:
            self._refuse_version()
        return self._send(ctxt, self._name, **kwargs)

    def bind(self, ctxt, *args, **kwargs):
        """The checked call, to run later: a callable without arguments
        (for :func:`tacker_rpc.parallel.call_parallel`)."""
        return functools.partial(self._send, ctxt, self._name,
                                 **self._checked(args, kwargs))

    def call_async(self, ctxt, *args, **kwargs):
        """Check now, send on the shared pool; a Future of the result."""
        return parallel.submit(self.bind(ctxt, *args, **kwargs))

    def each_server(self, ctxt, *args, hosts=None, timeout=None, **kwargs):
        """Send to every server of the topic: a dict host -> result or
        exception (see :func:`tacker_rpc.each_server.call_each_server`).
        Arguments named ``hosts`` or ``timeout`` must go positionally."""
        kwargs = self._checked(args, kwargs)
        method = self.method
        client = self._api.client
        namespace = declaration.namespace_of(type(self._api), method)

        def send(host, seconds):
            context = client.prepare(server=host, timeout=seconds,
                                     version=method.since,
                                     namespace=namespace)
            return getattr(context, method.kind)(ctxt, method.name, **kwargs)
        return each_server_mod.on_each_server(self._api.topic, send, hosts,
                                              timeout)

    def _checked(self, args, kwargs):
        if args:
            kwargs = self._bind(args, kwargs)
        self._check(kwargs)
        if self._capped:
            self._refuse_version()
        return kwargs

    def _refuse_version(self):
        raise oslo_messaging.RPCVersionCapError(
            version=self.method.since,
            version_cap=self._api.client.version_cap)

    def __repr__(self):
        return "<RemoteMethod %s since %s>" % (self.method.where,
                                               self.method.since)


class RPCAPI:
    """Base class of a declared RPC API (see the module's docstring).

    Class attributes: ``topic`` (required to make a client), ``version``
    (the newest this side speaks, default ``"1.0"``) and ``namespace``
    (default None).

    :param version_cap: the newest version the servers understand; methods
        declared since a newer one are refused before sending.
    :param topic: the topic to send to, when not the class's (for a topic
        read from configuration).
    :param client_options: keyword arguments of
        :func:`tacker_rpc.rpc.get_client` (``timeout``, ``retry``,
        ``serializer``...).
    :raises InvalidDeclaration: when the class has no topic.
    """

    topic = None
    version = "1.0"
    namespace = None
    _rpc_methods = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        declaration.collect(cls)
        clashes = sorted(set(declaration.methods_of(cls)) & set(dir(RPCAPI)))
        if clashes:
            raise exceptions.InvalidDeclaration(
                "%s: %s would hide RPCAPI's own attributes; rename them"
                % (cls.__name__, ", ".join(clashes)))

    def __init__(self, version_cap=None, topic=None, **client_options):
        if topic is not None:
            self.topic = topic
        if not self.topic:
            raise exceptions.InvalidDeclaration(
                "%s has no topic: set the class attribute topic"
                % type(self).__name__)
        self._bind_client(messaging.get_client(
            oslo_messaging.Target(topic=self.topic, namespace=self.namespace,
                                  version=self.version),
            version_cap=version_cap, **client_options))

    def _bind_client(self, client):
        self.client = client
        for name, method in declaration.methods_of(type(self)).items():
            self.__dict__[name] = RemoteMethod(self, method)

    def prepare(self, **options):
        """This API with ``client.prepare(**options)``: for example
        ``prepare(server=host)`` sends to ``topic.host``,
        ``prepare(timeout=5)`` fixes the timeout."""
        prepared = object.__new__(type(self))
        prepared.topic = self.topic
        prepared._bind_client(self.client.prepare(**options))
        return prepared

    def can_send_version(self, version):
        """Whether ``version`` is within the client's version cap."""
        return self.client.can_send_version(version)

    def call_each_server(self, ctxt, method, hosts=None, timeout=None,
                         **kwargs):
        """The declared ``method`` (a name) on every server of the topic:
        a dict host -> result or exception. See
        :meth:`RemoteMethod.each_server`."""
        try:
            remote = self.__dict__[method]
        except KeyError:
            raise exceptions.InvalidArguments(
                "%s declares no method %r" % (type(self).__name__, method),
                method=method) from None
        return remote.each_server(ctxt, hosts=hosts, timeout=timeout,
                                  **kwargs)

    @classmethod
    def describe(cls):
        """The declaration as a JSON-able dict (what ``describe`` on a
        server returns for it)."""
        return declaration.describe(cls)
