"""The one exception type users see: a problem with their input, told in one line with what to do.

The CLI and the plugin turn it into one message and exit code 1 (never a traceback).
"""


class DeconvError(Exception):
    """A user-facing error: bad input, an unwritable output, a network that cannot be patched safely."""
