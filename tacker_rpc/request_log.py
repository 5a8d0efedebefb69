"""Logging middleware: one line per request, on each side.

:class:`LoggingMiddleware` logs, after every request it sees, one line on
the logger :data:`LOGGER_NAME` with the side, the method, the target, the
outcome, the duration and the arguments, for example::

    rpc client call conductor:get_vnf -> ok in 3.1 ms args={'vnf_id': 'v1',
    'auth': {'password': '***'}}
    rpc server conductor.node1:get_vnf -> ok in 1.2 ms args={...}
    request_id=req-6b1c... global_request_id=req-31f0...

What it promises: the value of every argument key containing one of the
censored words (default :data:`tacker_rpc.redact.SENSITIVE_KEYS`:
password, token, secret, key, credential), at any depth of dicts and
lists, is printed as ``***``, as is the password of any transport URL; the
arguments are cut at ``max_length`` characters; results are never logged;
a failure's outcome is the exception's class and the first line of its
message. Successful requests are logged at ``level`` (INFO), failed ones
at ``error_level`` (WARNING). The server side line names the request ids
itself, so it correlates without oslo.log's formatter too.

Use it alone (``middleware=[LoggingMiddleware()]``) or by name
(``rpc_server_middleware = logging``); the option ``rpc_log_censored_keys``
then gives the censored words.
"""

import logging
import reprlib

from tacker_rpc import middleware
from tacker_rpc import redact

#: Logger of the request lines, so that their level can be set apart.
LOGGER_NAME = "tacker_rpc.requests"
DEFAULT_MAX_LENGTH = 1000


class LoggingMiddleware(middleware.Middleware):
    """Logs one line per request (see the module's docstring).

    :param censored_keys: words whose keys' values are hidden.
    :param level: log level of successful requests.
    :param error_level: log level of failed ones.
    :param max_length: longest text of the arguments, in characters.
    """

    def __init__(self, censored_keys=redact.SENSITIVE_KEYS,
                 level=logging.INFO, error_level=logging.WARNING,
                 max_length=DEFAULT_MAX_LENGTH):
        self._censored = tuple(censored_keys)
        self._level = level
        self._error_level = error_level
        self._repr = reprlib.Repr()
        self._repr.maxstring = self._repr.maxother = max_length
        self._repr.maxlevel = 20
        self._repr.maxdict = self._repr.maxlist = 100
        self._max_length = max_length
        self._log = logging.getLogger(LOGGER_NAME)

    def after(self, request):
        level = self._level if request.exception is None \
            else self._error_level
        if not self._log.isEnabledFor(level):
            return
        text = ("rpc %s %s%s:%s -> %s in %.1f ms args=%s" % (
            request.side,
            request.call_type + " " if request.call_type else "",
            _where(request.target), _method(request), outcome(request),
            request.duration * 1000, self.arguments(request.args)))
        if request.side == middleware.SERVER:
            text += " request_id=%s global_request_id=%s" % (
                getattr(request.context, "request_id", None),
                getattr(request.context, "global_request_id", None))
        self._log.log(level, "%s", text)

    def arguments(self, args):
        """``args`` as they are logged: censored, cut to length."""
        text = self._repr.repr(redact.censor(args, self._censored))
        if len(text) > self._max_length:
            text = text[:self._max_length] + "..."
        return text


def outcome(request):
    """``ok``, or the exception's class name and first message line."""
    exc = request.exception
    if exc is None:
        return "ok"
    lines = str(exc).splitlines()
    message = redact.mask_url(lines[0]) if lines else ""
    name = request.exception_name
    return "%s: %s" % (name, message) if message else name


def _where(target):
    where = target.topic or ""
    if target.server:
        where += "." + target.server
    if target.fanout:
        where += "(fanout)"
    return where


def _method(request):
    namespace = request.target.namespace
    return "%s.%s" % (namespace, request.method) if namespace \
        else request.method


def from_conf(conf):
    """The ``logging`` entry point: a :class:`LoggingMiddleware` censoring
    the words of the ``rpc_log_censored_keys`` option."""
    return LoggingMiddleware(censored_keys=conf.rpc_log_censored_keys)

