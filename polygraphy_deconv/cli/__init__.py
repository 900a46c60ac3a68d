"""The `polygraphy-deconv` command: one module per subcommand, registered in main.py."""

import signal as _signal
import sys as _sys

# The console script imports this package first: from this line on, a cleanup signal during start-up is
# recorded here and handled by main() (one line, exit 128 + N), never a KeyboardInterrupt traceback. Inline
# and stdlib only, so that the window before it is as short as it can be (see signals.py).
early_signals: list[int] = []
if _sys.argv and _sys.argv[0].endswith("polygraphy-deconv"):
    for _name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"):
        _number = getattr(_signal, _name, None)
        if _number is not None and _signal.getsignal(_number) != _signal.SIG_IGN:
            _signal.signal(_number, lambda signum, frame: early_signals.append(signum))
