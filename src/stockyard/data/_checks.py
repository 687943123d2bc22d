"""Doctor checks of the data layer: the local store directory, and S3 when configured."""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import uuid
from pathlib import Path

import pyarrow.fs as pafs

from stockyard.config import Settings
from stockyard.data._s3 import s3_filesystem, s3_root
from stockyard.obs import CheckResult, CheckStatus, DoctorCheck
from stockyard.resilience import classify

__all__ = ["check_data_store", "check_s3", "data_checks"]

_S3_TIMEOUT_S = 3.0


def data_checks() -> list[DoctorCheck]:
    """``data.store`` (required) and ``data.s3`` (required only when configured: SKIP else)."""
    return [
        DoctorCheck(
            name="data.store",
            function=check_data_store,
            required=True,
            description="the local data directory is readable and writable",
        ),
        DoctorCheck(
            name="data.s3",
            function=check_s3,
            required=True,  # a SKIP never fails the doctor; a configured, unreachable S3 does
            description="the S3/MinIO bucket answers a listing (when data.s3.bucket is set)",
        ),
    ]


def check_data_store(settings: Settings) -> CheckResult:
    """Create ``data.dir`` if needed, write, read back and delete a probe file."""
    directory = settings.data.dir if settings.data.dir is not None else settings.home / "data"
    directory = Path(directory).expanduser()
    observed: dict[str, object] = {"dir": str(directory)}
    probe = directory / f".doctor-probe-{uuid.uuid4().hex}"
    payload = b"stockyard doctor probe\n"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(payload)
        if probe.read_bytes() != payload:
            return CheckResult(CheckStatus.FAIL, f"{directory}: probe read back wrong", observed)
        probe.unlink()
        listed = os.access(directory, os.R_OK | os.X_OK)
    except OSError as exc:
        with contextlib.suppress(OSError):
            probe.unlink(missing_ok=True)
        return CheckResult(
            CheckStatus.FAIL, f"{directory} is not usable: {classify(exc).message}", observed
        )
    free = shutil.disk_usage(directory).free
    observed["free_bytes"] = free
    if not listed:
        return CheckResult(CheckStatus.FAIL, f"{directory} cannot be listed", observed)
    return CheckResult(
        CheckStatus.PASS, f"{directory} is writable; {free / 2**30:.1f} GiB free", observed
    )


def check_s3(settings: Settings) -> CheckResult:
    """List the bucket (prefix) with short timeouts and one attempt; SKIP when unset."""
    s3 = settings.data.s3
    if not s3.configured:
        return CheckResult(CheckStatus.SKIP, "data.s3.bucket is not set")
    root = s3_root(s3)
    observed: dict[str, object] = {"endpoint": s3.endpoint_url or "aws", "root": root}
    begin = time.perf_counter()
    try:
        filesystem = s3_filesystem(
            s3,
            connect_timeout=_S3_TIMEOUT_S,
            request_timeout=_S3_TIMEOUT_S,
            max_attempts=1,
        )
        bucket = filesystem.get_file_info(root.split("/", 1)[0])
        if bucket.type == pafs.FileType.NotFound:
            return CheckResult(CheckStatus.FAIL, f"bucket {s3.bucket!r} does not exist", observed)
        entries = filesystem.get_file_info(pafs.FileSelector(root, allow_not_found=True))
    except Exception as exc:
        error = classify(exc)
        observed["retryable"] = error.retryable
        return CheckResult(
            CheckStatus.FAIL, f"S3 at {root} is unreachable: {error.message}", observed
        )
    observed["latency_ms"] = round((time.perf_counter() - begin) * 1000, 1)
    observed["entries"] = len(entries)
    return CheckResult(CheckStatus.PASS, f"S3 {root} answers ({len(entries)} entries)", observed)
