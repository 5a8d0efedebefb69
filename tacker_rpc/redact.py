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


#: Parts of a key whose value :func:`censor` hides (case-insensitive).
SENSITIVE_KEYS = ("password", "token", "secret", "key", "credential")
CENSORED = "***"


def censor(value, sensitive=SENSITIVE_KEYS):
    """A copy of ``value`` in which the value of every dict key containing
    one of ``sensitive`` (case-insensitive) is ``"***"``, at any depth of
    dicts, lists, tuples and sets; transport URL passwords in strings are
    masked too. ``value`` itself is not changed."""
    sensitive = tuple(part.lower() for part in sensitive)
    return _censor(value, sensitive)


def _censor(value, sensitive):
    if isinstance(value, dict):
        return {key: CENSORED if _is_sensitive(key, sensitive)
                else _censor(item, sensitive)
                for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_censor(item, sensitive) for item in value]
    if isinstance(value, str):
        return mask_url(value)
    return value


def _is_sensitive(key, sensitive):
    key = str(key).lower()
    return any(part in key for part in sensitive)
