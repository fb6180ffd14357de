"""Where a report goes, and writing it atomically.

A report is built in a hidden temporary sibling folder and renamed into place at the
end, so a run that fails or is interrupted leaves no half-written report, and an earlier
report is never overwritten (the destination must not exist, or be an empty folder).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

from lpsgd.errors import InvalidArgument

__all__ = ["default_report_dir", "check_destination", "staging", "PartialReport"]


class PartialReport(KeyboardInterrupt):
    """Raised inside :func:`staging` on SIGTERM so the staged folder is removed (a
    KeyboardInterrupt, so pytest stops the session instead of failing one test)."""


def default_report_dir(profile: str, seed: int, *, base: str | os.PathLike = "reports",
                       now: _dt.datetime | None = None) -> Path:
    """``<base>/<UTC timestamp>-<profile>-seed<N>``, with ``-2``, ``-3``... appended when a
    report of that name already exists (two runs in the same second)."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    stem = f"{now.strftime('%Y%m%dT%H%M%SZ')}-{profile}-seed{seed}"
    path = Path(base) / stem
    n = 2
    while path.exists():
        path = Path(base) / f"{stem}-{n}"
        n += 1
    return path


def check_destination(dest: str | os.PathLike, *, create_parent: bool = False) -> Path:
    """Check that a report can be written to ``dest``, before any work is done.

    ``dest`` must not exist (or be an empty folder) and its parent must be a writable
    folder (created when ``create_parent``, which the default ``reports/`` uses).

    Raises:
        InvalidArgument: naming ``--out`` and its value, with the reason.
    """
    dest = Path(dest)
    shown = f"--out={str(dest)!r}"
    if dest.exists() or dest.is_symlink():
        if not dest.is_dir() or dest.is_symlink():
            raise InvalidArgument(f"Expected --out to be a new folder but got {shown}, "
                                  f"which exists and is not a folder")
        if any(dest.iterdir()):
            raise InvalidArgument(f"Expected --out to be a new or empty folder but got "
                                  f"{shown}, which is not empty (reports are never "
                                  f"overwritten)")
    parent = dest.absolute().parent
    if create_parent and not parent.exists():
        try:
            parent.mkdir(parents=True)
        except OSError as exc:
            raise InvalidArgument(f"Cannot create the parent folder of {shown}: "
                                  f"{exc.strerror or exc}") from None
    if not parent.is_dir():
        raise InvalidArgument(f"Expected the parent of --out to be an existing folder but "
                              f"got {shown}")
    # Probe by creating (and removing) a temporary sibling: os.access is not reliable for
    # root, read-only mounts or ACLs.
    try:
        probe = tempfile.mkdtemp(prefix=".lpsgd-probe-", dir=parent)
    except OSError as exc:
        raise InvalidArgument(f"Cannot write to {shown}: {exc.strerror or exc}") from None
    os.rmdir(probe)
    return dest


@contextlib.contextmanager
def staging(dest: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder next to ``dest``; rename it to ``dest`` on success.

    On any exception (including KeyboardInterrupt, and SIGTERM, which is turned into
    :class:`PartialReport` while staging) the temporary folder is removed and nothing is
    left behind.
    """
    dest = Path(dest)
    parent = dest.absolute().parent
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=parent))
    previous = None

    def _on_term(signum, frame):  # noqa: ARG001 - signal handler signature
        raise PartialReport(f"terminated by signal {signum}")

    try:
        previous = signal.signal(signal.SIGTERM, _on_term)
    except ValueError:  # not the main thread: no handler, Ctrl-C still cleans up
        previous = None
    try:
        yield tmp
        os.chmod(tmp, 0o755)  # mkdtemp makes it 0700
        # rename(2) replaces an empty destination folder and fails on a non-empty one, so
        # a report that appeared meanwhile is never overwritten.
        os.rename(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
