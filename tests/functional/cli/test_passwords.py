"""No ``tacker-rpc`` output (stdout, stderr, logs) ever shows a broker
password; URLs are shown masked."""

from tests import broker
from tests.functional.cli import conftest as cli_conftest

# The test broker's own password is pifpaf's default, the word "secret",
# which also stands, rightly, in the logged default of rpc_log_censored_keys:
# it is looked for as it would stand in a URL.
SECRETS = {cli_conftest.DISTINCT_PASSWORD,
           ":%s@" % broker.RabbitBroker.PASSWORD}


def test_no_command_shows_the_password(run_cli, topic, serve_cli,
                                       distinct_url):
    password = cli_conftest.password_of(distinct_url)
    secrets = SECRETS | {password}
    server = serve_cli(topic, "pw-host", "--debug", url=distinct_url)

    def run(*argv):
        return run_cli(*argv, "--transport-url", distinct_url, "--debug",
                       passwords=secrets)

    for argv in [("call", "echo", "value=1", "--topic", topic),
                 ("call", "nope", "--topic", topic),
                 ("call", "sleep", "seconds=3", "--topic", topic,
                  "--timeout", "1"),
                 ("cast", "echo", "value=1", "--topic", topic, "--fanout"),
                 ("ping", "--topic", topic, "--all"),
                 ("doctor", "--topic", topic),
                 ("bench", "--topic", topic, "--calls", "5")]:
        result = run(*argv)
        assert result.stderr, "--debug logged nothing for %s" % (argv,)
    server.stop()
    with open(server.log_path) as log_file:
        log = log_file.read()
    assert "rabbit://%s:***@" % distinct_url.split("//")[1].split(":")[0] in (
        log)
    cli_conftest.check_no_password(log, secrets)


def test_config_file_with_a_password(run_cli, topic, start_server,
                                     distinct_url, tmp_path):
    start_server(topic, "h1")
    path = tmp_path / "tacker_rpc.conf"
    path.write_text("[DEFAULT]\ntransport_url = %s\n" % distinct_url)
    secrets = SECRETS | {cli_conftest.password_of(distinct_url)}
    result = run_cli("call", "echo", "value=from file", "--topic", topic,
                     "--config-file", str(path), "--format", "json",
                     passwords=secrets)
    assert result.returncode == 0, result
    assert result.json()["result"] == "from file"
    result = run_cli("doctor", "--topic", topic, "--config-file", str(path),
                     passwords=secrets)
    assert result.returncode == 0, result


def test_a_bad_url_is_reported_masked(run_cli):
    result = run_cli("call", "x", "--topic", "t", "--transport-url",
                     "nosuch://u:Zz-hidden-91@h:5672/", passwords=SECRETS)
    assert result.returncode == 1
    assert "nosuch://u:***@h:5672/" in result.stderr
    assert "Zz-hidden-91" not in result.stderr + result.stdout
