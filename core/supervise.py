"""Run several commands as one: `python -m core.supervise "CMD 1" "CMD 2" ...`.

`make run` starts the server and the task worker this way so that they stop together: Ctrl-C
(or SIGTERM) is passed to each, and when one ends by itself the others are stopped too. Each
runs in a process group of its own, so that a command's children (runserver's autoreloader
child) are stopped with it.
"""

import os
import shlex
import signal
import subprocess
import sys
import time


def _stop(processes: list[subprocess.Popen], sig: int = signal.SIGINT, grace: float = 10) -> None:
    """Send `sig` to each command's process group, then kill what is left after `grace` seconds."""
    for process in processes:
        if process.poll() is None:
            _signal_group(process, sig)
    deadline = time.monotonic() + grace
    for process in processes:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    """Signal a command's process group or, when it has none (a Ctrl-C that came while it was
    being started can reach it before it makes its group), the command itself."""
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        if process.poll() is None:
            process.send_signal(sig)


def main(commands: list[str]) -> int:
    """Start every command, wait until one ends or a signal comes, stop the rest; the status
    of the command that ended by itself (0 after a signal)."""
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    processes = [
        subprocess.Popen(shlex.split(command), start_new_session=True)  # noqa: S603
        for command in commands
    ]
    while not stopping and all(process.poll() is None for process in processes):
        time.sleep(0.2)
    ended = next((p.returncode for p in processes if p.returncode is not None), 0)
    _stop(processes)
    return 0 if stopping else (128 - ended if ended < 0 else ended)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
