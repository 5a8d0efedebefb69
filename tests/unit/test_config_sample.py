"""etc/tacker_rpc.conf.sample must be what the generator writes today."""

import os

from oslo_config import generator

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
GENERATOR_CONF = os.path.join(REPO_ROOT, "etc", "oslo-config-generator",
                              "tacker_rpc.conf")
SAMPLE = os.path.join(REPO_ROOT, "etc", "tacker_rpc.conf.sample")


def test_config_sample_is_up_to_date(tmp_path):
    fresh = tmp_path / "tacker_rpc.conf.sample"
    generator.main(["--config-file", GENERATOR_CONF,
                    "--output-file", str(fresh)])
    with open(SAMPLE) as committed:
        assert committed.read() == fresh.read_text(), (
            "etc/tacker_rpc.conf.sample is stale; run `tox -e genconfig`")
