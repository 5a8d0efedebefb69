"""oslo.service's threading backend, for a process that runs Services.

oslo.service fixes its backend when ``oslo_service.service`` is first
imported (``import oslo_messaging`` does it): that module binds
``Service``, ``launch``... of the backend selected then, eventlet unless
one was chosen. Importing tacker_rpc, ``rpc.init`` and clients change
nothing of it: a process that only makes clients, casts and notifications
(an API server, a test run) keeps oslo.service's own choice, so its
``loopingcall`` and ``threadgroup`` behave as they did without tacker_rpc.

A process that runs the toolkit's Services runs them on native threads,
under oslo.service's threading launcher. It asks for that by building a
:class:`tacker_rpc.rpc.Service` (which calls :func:`select_threading`), or
explicitly, by calling :func:`select_threading` before it looks up
``oslo_service.service.launch`` or ``loopingcall`` classes (a daemon whose
manager starts a ``FixedIntervalLoopingCall`` before it builds its
Service). ``tacker-rpc`` calls it first thing.
"""

import importlib
import sys
import warnings

from oslo_service import backend as _backend

#: oslo.service modules that bind the selected backend's components at
#: import.
_COMPONENT_MODULES = ("oslo_service.service", "oslo_service.loopingcall",
                      "oslo_service.threadgroup")


def select_threading():
    """Make oslo.service's threading backend the process's. Returns the
    backend type in force afterwards.

    What a caller may rely on:

    * Nothing selected yet: the threading backend is selected.
    * Eventlet selected by default (``oslo_messaging`` was imported) and
      not in use, that is eventlet has not monkey-patched the process and
      no backend hook chose it: the selection is undone and threading
      selected, and the ``oslo_service`` modules that bound the backend's
      components (``service``, ``loopingcall``, ``threadgroup``) are
      reloaded, so ``oslo_service.service.launch`` and
      ``loopingcall.FixedIntervalLoopingCall`` are the threading ones from
      then on. A name imported from them before (``from
      oslo_service.service import launch``) and objects made before keep
      eventlet's.
    * Eventlet in use (monkey-patched, or chosen by a hook): left alone,
      with a ``RuntimeWarning``: the toolkit's Services do not run on
      eventlet (its clients and notifier do; see doc/differences.rst).
    """
    selected = _backend.get_backend_type()
    if selected is _backend.BackendType.THREADING:
        return selected
    if selected is not None:
        if _eventlet_in_use():
            warnings.warn(
                "oslo.service's %s backend is in use in this process "
                "(eventlet monkey-patched it or a backend hook chose it); "
                "tacker_rpc runs its Services on native threads and "
                "does not support them in an eventlet process (its "
                "clients and notifier work there)" % selected.value,
                RuntimeWarning, stacklevel=3)
            return selected
        if not _unselect():
            return selected
    with warnings.catch_warnings():
        # The threading backend imports futurist, which imports eventlet
        # when it is installed (oslo.service depends on it), and eventlet
        # warns at import that it is deprecated. Nothing here runs on
        # eventlet: that warning would only be noise on every command.
        warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
        _backend.init_backend(_backend.BackendType.THREADING)
    for name in _COMPONENT_MODULES:
        if name in sys.modules:
            importlib.reload(sys.modules[name])
    return _backend.BackendType.THREADING


def monkey_patched():
    """Whether eventlet has monkey-patched this process (its threads,
    sockets or time are green)."""
    eventlet = sys.modules.get("eventlet")
    if eventlet is None:
        return False
    patcher = importlib.import_module("eventlet.patcher")
    return any(patcher.is_monkey_patched(name)
               for name in ("thread", "socket", "select", "time"))


def _eventlet_in_use():
    return (getattr(_backend, "_backend_hook", None) is not None
            or monkey_patched())


def _unselect():
    """Forget oslo.service's backend selection; returns whether it could.

    oslo.service has no public way to change a selected backend; its
    ``_reset_backend`` (meant for its own tests) clears the cached choice.
    Without it (a newer oslo.service) the selection stays and a warning
    says to select threading before importing oslo_messaging.
    """
    reset = getattr(_backend, "_reset_backend", None)
    if reset is None:
        warnings.warn(
            "oslo.service's %s backend was selected before tacker_rpc "
            "could select threading and this oslo.service cannot change "
            "it; call tacker_rpc.backend.select_threading() before "
            "importing oslo_messaging" % _backend.get_backend_type().value,
            RuntimeWarning, stacklevel=4)
        return False
    reset()
    return True
