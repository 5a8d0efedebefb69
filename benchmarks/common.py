"""What every benchmark shares: statistics, the machine, JSON, tables."""

from importlib import metadata
import json
import os
import platform
import statistics
import subprocess
import time

RESULTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           "results")
PACKAGES = ("tacker_rpc", "oslo.messaging", "kombu", "amqp", "oslo.service",
            "futurist")


def percentile(values, fraction):
    """The ``fraction`` (0..1) percentile of ``values``, nearest rank."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


def median(values):
    """The median of ``values``; NaN when there are none."""
    values = list(values)
    return statistics.median(values) if values else float("nan")


def rabbitmq_version():
    """The installed rabbitmq-server package version, or None."""
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", "rabbitmq-server"],
            capture_output=True, text=True, check=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.strip() or None


def machine():
    """Where the figures come from: cores, load, Python, versions."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "rabbitmq_server": rabbitmq_version(),
        "versions": versions,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def write_json(name, data, path=None):
    """Write ``data`` to ``path`` (default benchmarks/results/NAME.json)."""
    if path is None:
        os.makedirs(RESULTS_DIR, exist_ok=True)
        path = os.path.join(RESULTS_DIR, "%s.json" % name)
    with open(path, "w") as out:
        json.dump(data, out, indent=2, sort_keys=True)
        out.write("\n")
    return path


def format_table(headers, rows):
    """``rows`` (lists of cells) as an aligned plain-text table."""
    cells = [[str(h) for h in headers]] + [
        [_cell(value) for value in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True))
             for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value):
    if isinstance(value, float):
        if value != value:
            return "-"
        return "%.3f" % value if abs(value) < 10 else "%.0f" % value
    return str(value)
