"""Processes of this machine, as the kernel pool and the run store's recovery see them."""

import os


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine (a zombie counts as alive)."""
    if os.name == "nt":
        # os.kill(pid, 0) would terminate the process on Windows: never call a run dead there.
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    except (OverflowError, ValueError):  # not a valid pid on this system
        return False
    except OSError:
        return True
    return True
