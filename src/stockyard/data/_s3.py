"""Parquet on S3 / MinIO: the same ``ParquetStore`` and layout as on disk, over pyarrow's S3."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

import pyarrow.fs as pafs

from stockyard.config import ConfigError, S3Settings
from stockyard.data._parquet import ParquetStore

__all__ = ["make_s3_store", "s3_filesystem", "s3_root"]


def s3_filesystem(
    settings: S3Settings,
    *,
    connect_timeout: float = 5.0,
    request_timeout: float = 30.0,
    max_attempts: int = 3,
) -> pafs.S3FileSystem:
    """A pyarrow ``S3FileSystem`` for ``data.s3``: endpoint (MinIO, moto) or AWS, keys, region.

    Without keys, the AWS SDK's default chain (environment, profile, instance role) applies.
    """
    _require_bucket(settings)
    endpoint: str | None = None
    scheme: Literal["http", "https"] = "https"
    if settings.endpoint_url:
        parts = urlsplit(settings.endpoint_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"data.s3.endpoint_url must look like http(s)://host:port, "
                f"got {settings.endpoint_url!r}"
            )
        endpoint, scheme = parts.netloc, ("http" if parts.scheme == "http" else "https")
    key = settings.access_key_id.get_secret_value() if settings.access_key_id else None
    secret = settings.secret_access_key.get_secret_value() if settings.secret_access_key else None
    if (key is None) != (secret is None):
        raise ConfigError(
            "data.s3.access_key_id and data.s3.secret_access_key must be set together"
        )
    return pafs.S3FileSystem(
        access_key=key,
        secret_key=secret,
        region=settings.region,
        endpoint_override=endpoint,
        scheme=scheme,
        connect_timeout=connect_timeout,
        request_timeout=request_timeout,
        retry_strategy=pafs.AwsStandardS3RetryStrategy(max_attempts=max_attempts),
    )


def s3_root(settings: S3Settings) -> str:
    """``bucket/prefix`` (or just ``bucket``): where the store's layout starts."""
    bucket = _require_bucket(settings)
    prefix = settings.prefix.strip("/")
    return f"{bucket}/{prefix}" if prefix else bucket


def make_s3_store(
    settings: S3Settings,
    *,
    filesystem: pafs.FileSystem | None = None,
    name: str = "s3",
) -> ParquetStore:
    """A ``ParquetStore`` rooted at ``{bucket}/{prefix}`` on S3 / MinIO (bucket must exist)."""
    fs = filesystem if filesystem is not None else s3_filesystem(settings)
    return ParquetStore(s3_root(settings), filesystem=fs, name=name)


def _require_bucket(settings: S3Settings) -> str:
    if not settings.bucket:
        raise ConfigError("data.s3.bucket is not set: S3 is not configured")
    return settings.bucket
