"""etc/tacker_rpc.conf.sample must be what the generator writes today."""

import os

from oslo_config import generator
import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
GENERATOR_CONF = os.path.join(REPO_ROOT, "etc", "oslo-config-generator",
                              "tacker_rpc.conf")
SAMPLE = os.path.join(REPO_ROOT, "etc", "tacker_rpc.conf.sample")


# The sample also holds oslo.messaging's, oslo.service's and oslo.log's
# options, whose help texts change between their releases.
@pytest.mark.current_pins
def test_config_sample_is_up_to_date(tmp_path):
    fresh = tmp_path / "tacker_rpc.conf.sample"
    generator.main(["--config-file", GENERATOR_CONF,
                    "--output-file", str(fresh)])
    with open(SAMPLE) as committed:
        assert committed.read() == fresh.read_text(), (
            "etc/tacker_rpc.conf.sample is stale; run `tox -e genconfig`")


def test_sample_has_the_toolkits_options_as_generated(tmp_path):
    fresh = tmp_path / "tacker_rpc_only.conf.sample"
    generator.main(["--namespace", "tacker_rpc", "--wrap-width", "79",
                    "--output-file", str(fresh)])
    # One block per group: [DEFAULT], and the lean-rabbit driver's option
    # in [oslo_messaging_rabbit].
    blocks = [block.split("\n[", 1)[0] for block in
              fresh.read_text().split("#\n# From tacker_rpc\n#\n")[1:]]
    assert len(blocks) == 2
    with open(SAMPLE) as committed:
        sample = committed.read()
    for block in blocks:
        assert block.strip() in sample, (
            "etc/tacker_rpc.conf.sample is stale; run `tox -e genconfig`")
