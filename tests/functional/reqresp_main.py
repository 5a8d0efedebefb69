"""Requester and responder daemons of the long-running request tests.

    python -m tests.functional.reqresp_main responder --transport-url URL \
        --topic T --dir D [--hold] [--batch N] [--interval S]
    python -m tests.functional.reqresp_main requester --transport-url URL \
        --topic T --reply-topic R --store URL --log FILE [--send N] \
        [--create-or-update N] [--callback-delay S]

The responder (a certificate authority) writes each request it receives
to ``D/received.jsonl`` before acknowledging it, and answers from there:
once ``D/go`` exists when ``--hold``, once it has ``--batch`` requests
(in a shuffled order), one every ``--interval`` seconds; after
``--pause-after`` answers it waits for ``D/resume``. Restarted, it
answers what it had received and not answered (``D/answered``).

The requester sends ``--send`` requests (common names ``host-0``...),
then ``create_or_update`` for ``--create-or-update`` common names
(``host-0``...) right after ``start()``, printing ``sent`` or ``left``
(answered, not sent again) for each,
appends the id of each response it applies to ``--log``, and runs until
SIGTERM.
"""

import argparse
import json
import logging
import os
import random
import signal
import sys
import threading
import time

from tacker_rpc import reqresp
from tacker_rpc import rpc
from tacker_rpc.fields import Field
from tests.config import make_conf


class CertResponse(reqresp.Response):
    key = Field(str, "PEM private key")
    cert = Field(str, "PEM certificate")


class CertRequest(reqresp.Request):
    RESPONSE = CertResponse
    common_name = Field(str, "Common name")
    sans = Field(list[str], "Subject alternative names", default=[])


def certificate_for(fields):
    """What the test CA answers: derived from the request's fields, so a
    response matched to the wrong request shows."""
    return {"key": "key-" + fields["common_name"],
            "cert": "cert-%s-%s" % (fields["common_name"],
                                    ",".join(fields["sans"]))}


class CertificateAuthority:
    def __init__(self, args):
        self.args = args
        self.responder = reqresp.Responder(
            args.topic, {CertRequest: self.receive},
            store_url="sqlite:///%s" % os.path.join(args.dir, "responder.db"))
        self.received_path = os.path.join(args.dir, "received.jsonl")
        self.answered_path = os.path.join(args.dir, "answered")
        self.lock = threading.Lock()
        # What an earlier run of this responder received and left
        # unanswered, from the responder's store.
        self.waiting = [request.to_dict()
                        for request in self.responder.unanswered()]
        self.wake = threading.Event()

    def receive(self, request):
        with self.lock:
            _append(self.received_path, json.dumps(request.to_dict()))
            self.waiting.append(request.to_dict())
        self.wake.set()

    def answer_forever(self):
        go = os.path.join(self.args.dir, "go")
        while True:
            self.wake.wait(0.05)
            self.wake.clear()
            if self.args.hold and not os.path.exists(go):
                continue
            with self.lock:
                if len(self.waiting) < self.args.batch:
                    continue
                batch, self.waiting = self.waiting, []
            random.shuffle(batch)
            for stored in batch:
                self.pause_if_told()
                request = self.responder.restore(stored)
                request.respond(**certificate_for(stored["fields"]))
                _append(self.answered_path,
                        "%s/%s" % (stored["id"], stored["revision"]))
                time.sleep(self.args.interval)
            self.args.batch = 1


    def pause_if_told(self):
        if (self.args.pause_after is not None
                and len(_lines(self.answered_path)) == self.args.pause_after):
            resume = os.path.join(self.args.dir, "resume")
            while not os.path.exists(resume):
                time.sleep(0.05)


def run_responder(args):
    authority = CertificateAuthority(args)
    authority.responder.start()
    authority.wake.set()
    threading.Thread(target=authority.answer_forever, daemon=True).start()
    return authority.responder


def run_requester(args):
    requester = reqresp.Requester(CertRequest, args.topic, args.reply_topic,
                                  store_url=args.store)

    @requester.on_response
    def applied(response):
        time.sleep(args.callback_delay)
        _append(args.log, response.request.id)

    requester.start()
    for number in range(args.send):
        requester.send({}, common_name="host-%d" % number)
    for number in range(args.create_or_update):
        request = requester.create_or_update(
            {}, ["common_name"], common_name="host-%d" % number)
        print("left" if request.response else "sent", flush=True)
    return requester


def _lines(path):
    try:
        with open(path) as lines:
            return [line.strip() for line in lines if line.strip()]
    except FileNotFoundError:
        return []


def _append(path, line):
    with open(path, "a") as out:
        out.write(line + "\n")
        out.flush()
        os.fsync(out.fileno())


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=("requester", "responder"))
    parser.add_argument("--transport-url", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--dir")
    parser.add_argument("--hold", action="store_true")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--interval", type=float, default=0)
    parser.add_argument("--pause-after", type=int)
    parser.add_argument("--reply-topic")
    parser.add_argument("--store")
    parser.add_argument("--log")
    parser.add_argument("--send", type=int, default=0)
    parser.add_argument("--create-or-update", type=int, default=0)
    parser.add_argument("--callback-delay", type=float, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(process)d %(levelname)s "
                               "%(name)s %(message)s")
    rpc.init(make_conf(args.transport_url))
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    side = (run_requester if args.role == "requester" else run_responder)(
        args)
    print("ready", flush=True)
    stopped.wait()
    side.stop()
    rpc.cleanup()


if __name__ == "__main__":
    main()
