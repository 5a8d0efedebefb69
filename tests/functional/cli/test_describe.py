"""``tacker-rpc describe`` against daemons on the real broker."""

from tests.functional.declared import InventoryAPI


def test_describe_prints_a_declared_api(cli, topic, start_server):
    start_server(topic, "d1", manager="tests.functional.declared:"
                                      "InventoryManager")
    result = cli("describe", "--topic", topic)
    assert result.returncode == 0, result
    lines = result.stdout.splitlines()
    assert lines[0] == ("topic %s, host d1, manager "
                        "tests.functional.declared.InventoryManager" % topic)
    assert lines[2] == ("tests.functional.declared.InventoryAPI 1.2, "
                        "namespace None: An inventory service: one "
                        "declaration for both sides.")
    rows = [line.split() for line in lines[3:]]
    assert ["get_item", "call", "1.0", "->", "dict", "One", "item,", "and",
            "who", "served", "it."] in rows
    assert ["item_id:", "str", "the", "item's", "id"] in rows
    assert ["detail:", "bool", "=", "False"] in rows
    assert ["record", "cast", "1.1", "Keep", "token."] in rows

    result = cli("describe", "--topic", topic, "--server", "d1",
                 "--format", "json")
    assert result.returncode == 0, result
    assert result.json()["apis"] == [InventoryAPI.describe()]


def test_describe_prints_a_plain_managers_methods(cli, topic, start_server):
    start_server(topic, "p1")
    result = cli("describe", "--topic", topic)
    assert result.returncode == 0, result
    assert result.stdout.splitlines()[0].endswith("(no declared API)")
    assert ["echo", "(value)"] in [line.split()
                                   for line in result.stdout.splitlines()]


def test_describe_without_server_fails_and_says_why(cli, topic):
    result = cli("describe", "--topic", topic, "--timeout", "1")
    assert result.returncode == 1, result
    assert "no answer within 1s from topic %r" % topic in result.stderr
