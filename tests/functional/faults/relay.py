"""A TCP relay on loopback that can go silent without closing anything.

:class:`SilentRelay` listens on a free loopback port and forwards every
connection made to it to a target port, both ways. :meth:`SilentRelay.
silence` makes it stop forwarding (a link that drops everything: no
reset, no FIN, sockets stay open); :meth:`SilentRelay.restore` forwards
again, the bytes held meanwhile included, as a link that comes back
delivers what TCP retransmits.
"""

import socket
import threading

_POLL = 0.1


class SilentRelay:
    """Relay from ``127.0.0.1:`` :attr:`port` to ``127.0.0.1:target``."""

    def __init__(self, target):
        self.target = target
        self._forwarding = threading.Event()
        self._forwarding.set()
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

    def silence(self):
        """Stop forwarding in both directions, closing nothing."""
        self._forwarding.clear()

    def restore(self):
        """Forward again."""
        self._forwarding.set()

    def close(self):
        """Close every socket and stop every thread of the relay."""
        self._closed.set()
        self._forwarding.set()
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
            for source, sink in ((client, upstream), (upstream, client)):
                source.settimeout(_POLL)
                pump = threading.Thread(target=self._pump,
                                        args=(source, sink), daemon=True)
                self._threads.append(pump)
                pump.start()

    def _pump(self, source, sink):
        while not self._closed.is_set():
            # While silenced nothing is read: bytes queue in the kernel as
            # they do behind a link that drops packets.
            if not self._forwarding.wait(_POLL) or self._closed.is_set():
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
            self._forwarding.wait()
            try:
                sink.sendall(data)
            except OSError:
                return
