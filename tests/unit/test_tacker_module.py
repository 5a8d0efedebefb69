"""What a team coming from tacker's ``tacker/common/rpc.py`` expects of
``tacker_rpc.rpc`` and of the migration module it writes (doc/migrating.rst):
transport defaults set after the import, init called twice, the service's
own exception modules, its default object serializer, module state that
tests assign and patch, and contexts sent with ``tenant_id``."""

import os
import subprocess
import sys
import textwrap

from oslo_config import cfg
import oslo_messaging
import pytest

from tacker_rpc import exceptions
from tacker_rpc import opts
from tacker_rpc import rpc
from tacker_rpc import serializer

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def run_python(code):
    """Run ``code`` in a fresh interpreter (process-wide defaults and
    imports are what is tested); returns its stdout lines."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=REPO_ROOT,
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_transport_defaults_set_after_the_import_are_used_by_init():
    # tacker imports its rpc module (so tacker_rpc) before
    # tacker/common/config.py calls set_transport_defaults.
    lines = run_python("""
        import tempfile
        from oslo_config import cfg
        import oslo_messaging
        from tacker_rpc import rpc
        oslo_messaging.set_transport_defaults(control_exchange="tacker")
        with tempfile.NamedTemporaryFile("w", suffix=".conf") as conf_file:
            conf_file.write("[DEFAULT]\\ntransport_url = fake:/\\n")
            conf_file.flush()
            conf = cfg.ConfigOpts()
            conf(["--config-file", conf_file.name], project="tacker")
            rpc.init(conf)
        print(conf.control_exchange)
        print(rpc.TRANSPORT._driver._default_exchange)
        rpc.cleanup()
    """)
    assert lines == ["tacker", "tacker"]


def test_an_oslo_option_defined_otherwise_is_still_refused():
    conf = cfg.ConfigOpts()
    conf.register_opt(cfg.StrOpt("control_exchange", default="mine",
                                 help="not oslo.messaging's"))
    with pytest.raises(exceptions.InvalidConfiguration,
                       match=r"\[DEFAULT\] control_exchange .*"
                             r"set_transport_defaults"):
        opts.register_opts(conf)


def test_options_registered_again_after_new_transport_defaults():
    # A conf registered before set_transport_defaults keeps the definition
    # it has; the error names the cause rather than oslo.config's
    # DuplicateOptError from deep inside oslo.messaging.
    lines = run_python("""
        from oslo_config import cfg
        import oslo_messaging
        from tacker_rpc import exceptions, opts
        conf = cfg.ConfigOpts()
        opts.register_opts(conf)
        oslo_messaging.set_transport_defaults(control_exchange="late")
        try:
            opts.register_opts(conf)
        except exceptions.InvalidConfiguration as exc:
            print("refused:", exc)
    """)
    assert len(lines) == 1 and lines[0].startswith("refused: [DEFAULT] "
                                                   "control_exchange")


class ContextEndpoint:
    def whose(self, ctxt):
        return {"user_id": ctxt.user_id, "project_id": ctxt.project_id,
                "project_name": ctxt.project_name}


@pytest.mark.parametrize("sent, project_id", [
    ({"user_id": "u1", "tenant_id": "p1", "tenant_name": "demo"}, "p1"),
    ({"user_id": "u1", "tenant_id": "old", "project_id": "p1",
      "tenant_name": "demo"}, "p1"),
])
def test_a_context_sent_with_tenant_id_arrives_with_its_project(
        init_rpc, memory_server, sent, project_id):
    # Older neutron and tacker senders: tacker's Context.to_dict() sends
    # tenant_id and project_id, older ones tenant_id only.
    init_rpc()
    memory_server("tenants", [ContextEndpoint()])
    client = rpc.get_client(oslo_messaging.Target(topic="tenants"))
    assert client.call(sent, "whose") == {
        "user_id": "u1", "project_id": project_id, "project_name": "demo"}
    rebuilt = serializer.RequestContextSerializer().deserialize_context(sent)
    assert (rebuilt.user_id, rebuilt.project_id) == ("u1", project_id)
