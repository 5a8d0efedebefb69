"""A TCP relay on loopback that can go silent without closing anything.

:class:`SilentRelay` listens on a free loopback port and forwards every
connection made to it to a target port, both ways. :meth:`SilentRelay.
silence` makes it stop forwarding, in both directions or only in one (a
link that drops everything, or a half-open one: no reset, no FIN, sockets
stay open); :meth:`SilentRelay.restore` forwards again, the bytes held
meanwhile included, as a link that comes back delivers what TCP
retransmits.
"""

import socket
import threading

_POLL = 0.1
#: The direction from the relay's clients to the target, and back.
UP, DOWN = "up", "down"


class SilentRelay:
    """Relay from ``127.0.0.1:`` :attr:`port` to ``127.0.0.1:target``."""

    def __init__(self, target):
        self.target = target
        self._forwarding = {UP: threading.Event(), DOWN: threading.Event()}
        for event in self._forwarding.values():
            event.set()
        self._closed = threading.Event()
        self._sockets = []
        self._lock = threading.Lock()
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(_POLL)
        self.port = self._listener.getsockname()[1]
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def url(self, broker_url):
        """``broker_url`` (one host on ``target``) through this relay."""
        return broker_url.replace(":%d/" % self.target, ":%d/" % self.port)

    def silence(self, directions=(UP, DOWN)):
        """Stop forwarding in ``directions``, closing nothing."""
        for direction in directions:
            self._forwarding[direction].clear()

    def restore(self):
        """Forward again, both ways."""
        for event in self._forwarding.values():
            event.set()

    def close(self):
        """Close every socket and stop every thread of the relay."""
        self._closed.set()
        self.restore()
        for thread in self._threads:
            thread.join()
        with self._lock:
            for sock in self._sockets:
                sock.close()
        self._listener.close()

    def _accept(self):
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target))
            with self._lock:
                self._sockets += [client, upstream]
            for source, sink, direction in ((client, upstream, UP),
                                            (upstream, client, DOWN)):
                source.settimeout(_POLL)
                pump = threading.Thread(
                    target=self._pump, daemon=True,
                    args=(source, sink, self._forwarding[direction]))
                self._threads.append(pump)
                pump.start()

    def _pump(self, source, sink, forwarding):
        while not self._closed.is_set():
            # While silenced nothing is read: bytes queue in the kernel as
            # they do behind a link that drops packets.
            if not forwarding.wait(_POLL) or self._closed.is_set():
                continue
            try:
                data = source.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                data = b""
            if not data:
                # The peer closed: pass the close on.
                for sock in (source, sink):
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                return
            forwarding.wait()
            try:
                sink.sendall(data)
            except OSError:
                return
