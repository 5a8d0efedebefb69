"""Argument and value parsing of the tacker-rpc command, and its output
helpers; no broker."""

import argparse
import io
import logging

import pytest

from tacker_rpc import redact
from tacker_rpc.cli import bench
from tacker_rpc.cli import common
from tacker_rpc.cli import main
from tacker_rpc.cli import serve


def parse(*argv):
    return main.build_parser().parse_args(list(argv))


def parse_fails(capsys, *argv):
    with pytest.raises(SystemExit) as exit_info:
        parse(*argv)
    assert exit_info.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("text, value", [
    ("n=3", 3), ("f=2.5", 2.5), ("flag=true", True), ("none=null", None),
    ("name=conductor", "conductor"), ("empty=", ""),
    ('obj={"a": [1, 2]}', {"a": [1, 2]}), ("quoted=\"7\"", "7"),
    ("eq=a=b", "a=b"), ("space=hello world", "hello world"),
    ("broken={oops", "{oops"),
])
def test_values_are_json_when_they_parse_else_strings(text, value):
    key = text.partition("=")[0]
    assert common.parse_call_arguments([text]) == {key: value}


@pytest.mark.parametrize("pairs, problem", [
    (["novalue"], "'novalue' is not key=value"),
    (["=3"], "'=3' is not key=value"),
    (["a=1", "a=2"], "'a' is given twice"),
])
def test_bad_arguments_are_named(pairs, problem):
    with pytest.raises(common.CommandError, match=problem):
        common.parse_call_arguments(pairs)


def test_call_takes_method_arguments_and_target_options():
    args = parse("call", "echo", "value=1", "x=y", "--topic", "t",
                 "--server", "h", "--namespace", "ns", "--version", "1.2",
                 "--timeout", "2.5", "--transport-url", "rabbit://h//",
                 "--format", "json")
    assert (args.method, args.arguments) == ("echo", ["value=1", "x=y"])
    assert (args.topic, args.server, args.namespace, args.version,
            args.timeout) == ("t", "h", "ns", "1.2", 2.5)
    assert (args.transport_url, args.format) == ("rabbit://h//", "json")
    assert args.run is not None


def test_config_file_repeats():
    args = parse("ping", "--topic", "t", "--config-file", "a.conf",
                 "--config-file", "b.conf")
    assert args.config_file == ["a.conf", "b.conf"]


def test_cast_has_fanout_and_call_has_not(capsys):
    assert parse("cast", "m", "--topic", "t", "--fanout").fanout is True
    assert "unrecognized arguments: --fanout" in parse_fails(
        capsys, "call", "m", "--topic", "t", "--fanout")


@pytest.mark.parametrize("argv, problem", [
    (("call", "m"), "--topic"),
    (("ping", "--topic", "t", "--server", "h", "--all"),
     "not allowed with argument"),
    (("call", "m", "--topic", "t", "--timeout", "0"), "'0' must be above 0"),
    (("call", "m", "--topic", "t", "--timeout", "x"), "'x' is not a number"),
    (("bench", "--topic", "t", "--calls", "0"), "'0' must be 1 or more"),
    (("bench", "--topic", "t", "--concurrency", "1.5"),
     "'1.5' is not a whole number"),
    (("ping", "--topic", "t", "--format", "xml"), "invalid choice: 'xml'"),
    (("frobnicate",), "invalid choice: 'frobnicate'"),
    ((), "the following arguments are required: COMMAND"),
])
def test_bad_command_lines_exit_2_naming_the_problem(capsys, argv, problem):
    assert problem in parse_fails(capsys, *argv)


def test_bench_method_is_optional():
    args = parse("bench", "--topic", "t")
    assert (args.method, args.arguments, args.calls, args.concurrency) == (
        None, [], 200, 4)
    args = parse("bench", "echo", "value=1", "--topic", "t")
    assert (args.method, args.arguments) == ("echo", ["value=1"])


def test_a_broker_must_be_named():
    args = parse("ping", "--topic", "t")
    with pytest.raises(common.CommandError, match="--transport-url URL or "
                                                  "--config-file FILE"):
        common.load_conf(args)


def test_missing_config_file_is_an_error_naming_it(tmp_path):
    args = parse("ping", "--topic", "t", "--config-file",
                 str(tmp_path / "absent.conf"))
    with pytest.raises(common.CommandError, match="absent.conf"):
        common.load_conf(args)


def test_config_file_is_read_and_url_overrides_it(tmp_path):
    path = tmp_path / "t.conf"
    path.write_text("[DEFAULT]\ntransport_url = rabbit://u:p@file:5672/\n"
                    "rpc_response_timeout = 7\n")
    conf = common.load_conf(parse("ping", "--topic", "t", "--config-file",
                                  str(path)))
    assert conf.transport_url == "rabbit://u:p@file:5672/"
    assert conf.rpc_response_timeout == 7
    conf = common.load_conf(parse("ping", "--topic", "t", "--config-file",
                                  str(path), "--transport-url",
                                  "rabbit://u:p@flag:5672/"))
    assert conf.transport_url == "rabbit://u:p@flag:5672/"


def test_main_reports_errors_on_stderr_and_exits_1(capsys):
    assert main.main(["call", "m", "--topic", "t"]) == 1
    captured = capsys.readouterr()
    assert "error: say which broker" in captured.err
    assert captured.out == ""


def test_main_reports_errors_as_json_too(capsys):
    assert main.main(["call", "m", "bad", "--topic", "t", "--format",
                      "json"]) == 1
    assert '"error": "argument \'bad\' is not key=value"' in (
        capsys.readouterr().out)


def test_format_table_aligns_columns():
    assert common.format_table(("a", "bb"), [[1, "x"], ["long", None]]) == (
        "a     bb\n"
        "----  ----\n"
        "1     x\n"
        "long  null")


def test_format_value():
    assert common.format_value("plain") == "plain"
    assert common.format_value(3) == "3"
    assert common.format_value([1, 2]) == "[1, 2]"
    assert common.format_value({"k": [1]}).splitlines() == [
        "key  value", "---  -----", "k    [1]"]
    assert common.format_value([{"a": 1}, {"b": 2}]).splitlines() == [
        "a  b", "-  -", "1", "   2"]


def test_output_masks_passwords():
    stream = io.StringIO()
    common.Output("table", stream).write("url rabbit://u:hunter2@h:5672/")
    assert stream.getvalue() == "url rabbit://u:***@h:5672/\n"


def test_log_filter_masks_message_arguments_and_tracebacks():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(redact.MaskingLogFilter())
    log = logging.getLogger("test_cli.masking")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("connecting to %s", "rabbit://u:hunter2@h:5672/")
        try:
            raise ValueError("bad url rabbit://u:hunter2@h:5672/")
        except ValueError:
            log.exception("failed")
    finally:
        log.removeHandler(handler)
    text = stream.getvalue()
    assert "hunter2" not in text
    assert "rabbit://u:***@h:5672/" in text
    assert "ValueError: bad url rabbit://u:***@h:5672/" in text


@pytest.mark.parametrize("values, pct, expected", [
    ([1], 50, 1), ([1], 99, 1), ([1, 2, 3, 4], 50, 2), ([1, 2, 3, 4], 90, 4),
    (list(range(1, 101)), 99, 99), (list(range(1, 101)), 90, 90),
    (list(range(1, 101)), 50, 50),
])
def test_percentile_is_nearest_rank(values, pct, expected):
    assert bench.percentile(values, pct) == expected


def test_progress_bar_only_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    piped, terminal = io.StringIO(), Terminal()
    for stream in (piped, terminal):
        progress = bench._Progress(4, stream)
        for done in range(1, 5):
            progress.show(done)
    assert piped.getvalue() == ""
    assert terminal.getvalue().endswith("\r[%s] 4/4\n" % ("#" * 30))


class WithHost:
    def __init__(self, host):
        self.host = host


class WithoutArguments:
    pass


def test_load_manager_passes_host_when_the_class_takes_it():
    module = __name__
    assert serve.load_manager(module + ":WithHost", "h1").host == "h1"
    assert isinstance(serve.load_manager(module + ":WithoutArguments", "h"),
                      WithoutArguments)


@pytest.mark.parametrize("spec, problem", [
    ("nocolon", "is not module:Class"),
    ("no_such_module_x:C", "cannot import no_such_module_x"),
    (__name__ + ":Missing", "has no class 'Missing'"),
    (__name__ + ":parse", "has no class 'parse'"),
])
def test_load_manager_errors_name_the_problem(spec, problem):
    with pytest.raises(common.CommandError, match=problem):
        serve.load_manager(spec, "h")


def test_positive_number_types():
    assert common.positive_float("0.5") == 0.5
    assert common.positive_int("3") == 3
    for bad in ("-1", "0"):
        with pytest.raises(argparse.ArgumentTypeError):
            common.positive_int(bad)
