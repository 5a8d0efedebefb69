"""The server side of declared RPC APIs: a manager that implements them.

A manager class marked with :func:`implements` serves exactly the methods
of the APIs it names. When a server is made for it
(:func:`tacker_rpc.rpc.get_server`, hence ``Service.start``),
:func:`serving_endpoints` checks the manager against the declarations and
raises :class:`~tacker_rpc.exceptions.ImplementationMismatch` naming every
mismatch, so a wrong manager fails at start, not at its first call. The
manager is then served through one checking endpoint per namespace: each
request's arguments are checked against the declaration and a bad one is
refused with :class:`~tacker_rpc.exceptions.InvalidArguments` naming the
field (sent back to a caller, logged in one line) without reaching the
manager. Undeclared methods of the manager are not callable remotely.
Managers without :func:`implements` are served as they are.
"""

import inspect
import logging

import oslo_messaging

from tacker_rpc import declaration
from tacker_rpc import exceptions

LOG = logging.getLogger(__name__)

_ATTRIBUTE = "_rpc_implements"


def implements(*apis):
    """Class decorator: the manager serves the declared methods of
    ``apis`` (classes of :class:`tacker_rpc.api.RPCAPI`), and only
    those."""
    for api in apis:
        if not hasattr(api, "_rpc_methods"):
            raise exceptions.InvalidDeclaration(
                "implements() takes RPCAPI classes, got %r" % (api,))
    if not apis:
        raise exceptions.InvalidDeclaration("implements() needs an API")

    def decorate(cls):
        setattr(cls, _ATTRIBUTE, tuple(apis))
        return cls
    return decorate


def implemented_apis(manager):
    """The API classes ``manager`` declares it implements (maybe none)."""
    return getattr(manager, _ATTRIBUTE, ())


def served_names(manager):
    """The names of the methods ``manager`` serves remotely when it
    implements APIs; None for a plain manager."""
    apis = implemented_apis(manager)
    if not apis:
        return None
    return {name for api in apis for name in declaration.methods_of(api)}


def serving_endpoints(endpoints):
    """``endpoints`` with each manager that implements APIs replaced by
    its checking endpoints; others unchanged.

    :raises ImplementationMismatch: naming each way a manager differs from
        its declarations.
    """
    served = []
    for endpoint in endpoints:
        apis = implemented_apis(endpoint)
        if apis:
            served.extend(_checking_endpoints(endpoint, apis))
        else:
            served.append(endpoint)
    return served


class _CheckingEndpoint:
    """The declared methods of one namespace, checked, for the dispatcher.
    Each manager gets a subclass named as its class, so that what names a
    request's endpoint (metrics, logs) names the manager."""

    def __init__(self, target):
        self.target = target


def _checking_endpoints(manager, apis):
    problems = []
    endpoints = {}
    served_by = {}
    manager_name = type(manager).__name__
    endpoint_class = type(manager_name, (_CheckingEndpoint,),
                          {"__module__": type(manager).__module__})
    for api in apis:
        problems += _target_problems(manager, api)
        for name, method in sorted(declaration.methods_of(api).items()):
            namespace = declaration.namespace_of(api, method)
            key = (namespace, name)
            if key in served_by:
                problems.append("%s and %s are both %r in namespace %r" % (
                    served_by[key].where, method.where, name, namespace))
                continue
            served_by[key] = method
            function = getattr(manager, name, None)
            if not callable(function):
                problems.append("%s (since %s) is not implemented by %s"
                                % (method.where, method.since, manager_name))
                continue
            found = _signature_problems(method, function,
                                        "%s.%s()" % (manager_name, name))
            if found:
                problems += found
                continue
            endpoint = endpoints.get(namespace)
            if endpoint is None:
                endpoint = endpoints[namespace] = endpoint_class(
                    oslo_messaging.Target(namespace=namespace,
                                          version=api.version))
            elif endpoint.target.version != api.version:
                problems.append(
                    "APIs of versions %s and %s share namespace %r" % (
                        endpoint.target.version, api.version, namespace))
                continue
            setattr(endpoint, name, _checked(method, function))
    if problems:
        raise exceptions.ImplementationMismatch(
            "%s does not implement what it declares: %s"
            % (manager_name, "; ".join(problems)))
    return list(endpoints.values())


def _target_problems(manager, api):
    target = getattr(manager, "target", None)
    if target is None:
        return []
    problems = []
    if target.namespace != api.namespace:
        problems.append("its target's namespace %r is not %s's %r" % (
            target.namespace, api.__name__, api.namespace))
    if not declaration.version_covers(target.version or "1.0",
                                      api.version):
        problems.append("its target's version %r is older than %s's %r" % (
            target.version, api.__name__, api.version))
    return problems


def _signature_problems(method, function, where):
    """How ``function`` (a bound manager method) cannot take what
    ``method`` declares."""
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return []
    if not parameters or parameters[0].kind not in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            inspect.Parameter.VAR_POSITIONAL):
        return ["%s does not take the request context first" % where]
    named = {p.name: p for p in parameters[1:] if p.kind in (
        p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    takes_any = any(p.kind is p.VAR_KEYWORD for p in parameters)
    problems = []
    for name, field in method.fields.fields.items():
        parameter = named.get(name)
        if parameter is None:
            if not takes_any:
                problems.append("%s has no argument %r that %s declares"
                                % (where, name, method.where))
        elif not field.required and parameter.default is parameter.empty:
            problems.append("%s requires %r, optional in %s"
                            % (where, name, method.where))
    for name, parameter in named.items():
        if (parameter.default is parameter.empty
                and name not in method.fields.fields):
            problems.append("%s requires %r, which %s does not declare"
                            % (where, name, method.where))
    return problems


def _checked(method, function):
    """``function`` behind the argument check of ``method``."""
    check = method.fields.check

    def serve(ctxt, **kwargs):
        # An InvalidArguments is an ActionError: the dispatcher logs it as
        # one line and sends it back to the caller.
        check(kwargs)
        return function(ctxt, **kwargs)
    serve.__name__ = method.name
    return serve
