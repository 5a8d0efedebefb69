"""Keep broker passwords out of output, logs and error messages."""

import logging
import re

# "user:password@" right after "//" or "," (the hosts of a transport URL).
_CREDENTIALS = re.compile(r"(?<=[/,])([^:/@,\s]*):([^@/\s]*)@")


def mask_url(text):
    """Return ``text`` with every transport URL password replaced by ``***``.

    Works on a bare URL (``rabbit://u:secret@h:5672,u:secret@h2:5672//``) as
    well as on any message that contains one.
    """
    return _CREDENTIALS.sub(r"\1:***@", str(text))


class MaskingLogFilter(logging.Filter):
    """A logging filter that masks transport URL passwords in records.

    Attach it to a handler: the message, its arguments and the text of the
    exception it carries are masked before any formatter sees them.
    """

    def filter(self, record):
        record.msg = mask_url(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = mask_url(
                logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = mask_url(record.stack_info)
        return True
