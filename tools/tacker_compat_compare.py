"""Compare two runs of tacker's unit tests, test by test.

    python tools/tacker_compat_compare.py OWN.csv MIGRATED.csv

Each file is ``subunit2csv`` output of one run (columns test, status,
start, stop). Prints the count of each status in both runs and every test
whose status differs or that ran in one run only, then exits 1 when there
is any such test or when a run recorded no test, 0 otherwise. Used by
tools/tacker-compat.sh; runs on the standard library only.
"""

import collections
import csv
import sys


def read_statuses(path):
    """{test id: status} of one subunit2csv file."""
    with open(path, newline="") as stream:
        rows = csv.DictReader(stream)
        return {row["test"]: row["status"] for row in rows}


def compare(own, migrated):
    """Lines of the report, and whether the two runs differ."""
    lines = []
    for name, run in (("tacker's rpc.py", own),
                      ("migration module", migrated)):
        counts = collections.Counter(run.values())
        lines.append("%-17s %d tests: %s" % (
            name + ":", len(run),
            ", ".join("%d %s" % (n, status)
                      for status, n in sorted(counts.items()))))
    differing = sorted(test for test in own.keys() | migrated.keys()
                       if own.get(test) != migrated.get(test))
    for test in differing:
        lines.append("DIFFERS %s: %s -> %s" % (
            test, own.get(test, "not run"), migrated.get(test, "not run")))
    lines.append("%d tests differ" % len(differing))
    empty = not own or not migrated
    if empty:
        lines.append("a run recorded no test")
    return lines, bool(differing) or empty


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: %s OWN.csv MIGRATED.csv" % argv[0])
    lines, failed = compare(read_statuses(argv[1]), read_statuses(argv[2]))
    print("\n".join(lines))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
