"""Waiting for a condition in tests, with a bound that fails loudly."""

import time


def wait_until(condition, deadline, what="condition"):
    """Poll ``condition()`` every 0.1 s until it returns something true;
    return it. Raise AssertionError naming ``what`` after ``deadline``
    seconds."""
    end = time.monotonic() + deadline
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > end:
            raise AssertionError("%s not met within %ss" % (what, deadline))
        time.sleep(0.1)
