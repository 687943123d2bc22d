"""Where the supervised system keeps its run-time files, and the locks that guard them."""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

__all__ = ["MAX_SOCKET_PATH", "FileLock", "LockedError", "RunPaths", "node_socket_path"]

# sockaddr_un.sun_path holds 108 bytes on Linux, the last one a NUL.
MAX_SOCKET_PATH = 107


def node_socket_path(home: Path, name: str) -> Path:
    """Where the node ``name`` serves its control API: ``home/run/node-NAME.sock``, or, when
    that is longer than a socket path may be, a path under ``$XDG_RUNTIME_DIR`` (else the
    temp directory) named by a hash of it."""
    wanted = Path(home).expanduser().resolve() / "run" / f"node-{name}.sock"
    if len(os.fsencode(wanted)) <= MAX_SOCKET_PATH:
        return wanted
    digest = hashlib.sha256(os.fsencode(wanted)).hexdigest()[:16]
    base = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir())
    return base / f"stockyard-{os.getuid()}" / f"{digest}.sock"


@dataclass(frozen=True, slots=True)
class RunPaths:
    """The run directory (``STOCKYARD_HOME/run``), the supervisord files and the socket.

    The socket lives under the run directory unless that path is too long for a Unix
    socket; then it lives in a short directory of its own under the system's temp
    directory, named after the home so that every process of one home finds the same one.
    """

    home: Path
    run_dir: Path
    log_dir: Path
    socket_dir: Path

    @classmethod
    def of(cls, home: Path, log_dir: Path) -> RunPaths:
        """The paths of ``home`` (absolute), with process logs under ``log_dir``."""
        home = home.expanduser().absolute()
        run_dir = home / "run"
        socket_dir = run_dir
        if len(os.fsencode(run_dir / "supervisor.sock")) > MAX_SOCKET_PATH:
            digest = hashlib.sha256(os.fsencode(home)).hexdigest()[:12]
            socket_dir = Path(tempfile.gettempdir()) / f"stockyard-{os.getuid()}-{digest}"
        return cls(home, run_dir, log_dir.expanduser().absolute(), socket_dir)

    @property
    def config_file(self) -> Path:
        """The supervisord configuration ``stockyard up`` writes."""
        return self.run_dir / "supervisord.conf"

    @property
    def socket(self) -> Path:
        """supervisord's XML-RPC Unix socket."""
        return self.socket_dir / "supervisor.sock"

    @property
    def pid_file(self) -> Path:
        """supervisord's pid file."""
        return self.run_dir / "supervisord.pid"

    @property
    def supervisord_log(self) -> Path:
        """supervisord's own log (spawns, exits, state changes)."""
        return self.log_dir / "supervisord.log"

    @property
    def process_log_dir(self) -> Path:
        """Where each process's captured output goes, ``NAME.log``."""
        return self.log_dir / "processes"

    def process_log(self, name: str) -> Path:
        """The captured stdout and stderr of process ``name``."""
        return self.process_log_dir / f"{name}.log"

    @property
    def up_lock(self) -> Path:
        """Held by the one ``stockyard up`` of this home."""
        return self.run_dir / "up.lock"

    def account_lock(self, account: str) -> Path:
        """Held by the one node trading ``account``."""
        return self.run_dir / f"account-{account}.lock"

    def make(self) -> None:
        """Create the directories (the socket's private to this user)."""
        for directory in (self.run_dir, self.process_log_dir):
            directory.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(mode=0o700, parents=True, exist_ok=True)


class LockedError(RuntimeError):
    """Another process holds the lock; ``holder`` is its pid when it wrote one."""

    def __init__(self, path: Path, holder: int | None) -> None:
        who = f"process {holder}" if holder is not None else "another process"
        super().__init__(f"{path} is held by {who}")
        self.path = path
        self.holder = holder


class FileLock:
    """An exclusive ``flock`` on a file, taken without waiting.

    The operating system releases it when its holder dies, SIGKILL included, so a crashed
    holder never blocks its own restart. The holder's pid is written into the file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> FileLock:
        """Take the lock or raise ``LockedError`` naming the holder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            raise LockedError(self.path, holder) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        """Let the lock go (closing the file releases the flock)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> FileLock:
        return self.acquire()

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.release()


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode().strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None
