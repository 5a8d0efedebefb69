"""Keep broker passwords out of output, logs and error messages."""

import re

# "user:password@" right after "//" or "," (the hosts of a transport URL).
_CREDENTIALS = re.compile(r"(?<=[/,])([^:/@,\s]*):([^@/\s]*)@")


def mask_url(text):
    """Return ``text`` with every transport URL password replaced by ``***``.

    Works on a bare URL (``rabbit://u:secret@h:5672,u:secret@h2:5672//``) as
    well as on any message that contains one.
    """
    return _CREDENTIALS.sub(r"\1:***@", str(text))
