"""Where and how queries run, read in one place: arguments first, then ``IDC_SQL_*``
environment variables, then defaults; and how the library tells its caller what is happening.

The library never prints. What a person may want to see while a query runs (an estimate, a
BigQuery job's progress, a cancelled job) is handed to a :data:`Reporter` as a :class:`Notice`;
the command line prints notices to standard error, a notebook may ignore them.

>>> Settings.resolve(max_gb=10, environ={}).max_gb
10.0
>>> Settings.resolve(environ={"IDC_SQL_MAX_GB": "2.5"}).max_gb
2.5
>>> Settings.resolve(deadline=float("nan"), environ={})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
idc_sql.errors.UsageError: deadline=nan is not allowed: ...
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import Option, Piece, UsageError

ENV_PROJECT = ("IDC_SQL_PROJECT", "GOOGLE_CLOUD_PROJECT")
ENV_ENDPOINT = "IDC_SQL_BIGQUERY_ENDPOINT"
ENV_MAX_GB = "IDC_SQL_MAX_GB"
ENV_DEADLINE = "IDC_SQL_BIGQUERY_DEADLINE"
ENV_CACHE_DIR = "IDC_SQL_CACHE_DIR"
ENV_INDEX_DIR = "IDC_SQL_INDEX_DIR"

#: the cap a query may process unless ``max_gb`` says otherwise: 5% of the Sandbox's month
DEFAULT_MAX_GB = 50.0
#: the cap's bounds: 1 MB (below, no query of dicom_all fits) to 1 PB
MAX_GB_BOUNDS = (0.001, 1e6)
#: how long transient BigQuery errors are retried, in seconds
DEFAULT_DEADLINE = 120.0
DEADLINE_BOUNDS = (1.0, 3600.0)
#: the BigQuery project that holds IDC's public datasets
PUBLIC_PROJECT = "bigquery-public-data"


@dataclass(frozen=True)
class Settings:
    """How the engines run. Build it with :meth:`resolve`, which checks every value."""

    #: the project BigQuery bills queries to (None: the default credentials' project)
    project: str | None = None
    #: a BigQuery API endpoint (an emulator, a private endpoint); None: Google's
    endpoint: str | None = None
    #: the cost guard's cap, in decimal gigabytes processed
    max_gb: float = DEFAULT_MAX_GB
    #: seconds of retries of transient errors per BigQuery call
    deadline: float = DEFAULT_DEADLINE
    #: the project that holds the idc_vNN datasets (tests point it at an emulator's copy)
    data_project: str = PUBLIC_PROJECT
    #: where what is worth keeping between runs is kept (live schemas)
    cache_dir: Path = field(default_factory=lambda: default_cache_dir(os.environ))
    #: a folder of IDC indices as parquet, beyond the wheel's; None: only idc-index's own
    #: folder
    index_dir: Path | None = field(default_factory=lambda: default_index_dir(os.environ))

    @classmethod
    def resolve(
        cls,
        project: str | None = None,
        endpoint: str | None = None,
        max_gb: float | None = None,
        deadline: float | None = None,
        data_project: str | None = None,
        cache_dir: str | Path | None = None,
        index_dir: str | Path | None = None,
        *,
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        """Settings from the arguments given, else the environment, else the defaults."""
        env = os.environ if environ is None else environ
        project = project or next((env[k] for k in ENV_PROJECT if env.get(k)), None)
        endpoint = endpoint or env.get(ENV_ENDPOINT) or None
        if max_gb is None:
            max_gb = _from_env(env, ENV_MAX_GB, "a number of gigabytes", DEFAULT_MAX_GB)
            _bounded(max_gb, MAX_GB_BOUNDS, (ENV_MAX_GB, "=", repr(env.get(ENV_MAX_GB))), "GB")
        else:
            _bounded(max_gb, MAX_GB_BOUNDS, (Option("max_gb", max_gb),), "GB")
        if deadline is None:
            deadline = _from_env(env, ENV_DEADLINE, "a number of seconds", DEFAULT_DEADLINE)
            _bounded(
                deadline, DEADLINE_BOUNDS, (ENV_DEADLINE, "=", repr(env.get(ENV_DEADLINE))), "s"
            )
        else:
            _bounded(deadline, DEADLINE_BOUNDS, (Option("deadline", deadline),), "s")
        return cls(
            project=project,
            endpoint=endpoint,
            max_gb=float(max_gb),
            deadline=float(deadline),
            data_project=data_project or PUBLIC_PROJECT,
            cache_dir=Path(cache_dir) if cache_dir else default_cache_dir(env),
            index_dir=Path(index_dir) if index_dir else default_index_dir(env),
        )

    @classmethod
    def local(
        cls, index_dir: str | Path | None = None, *, environ: Mapping[str, str] | None = None
    ) -> Settings:
        """Settings of an engine that bills nothing: only the folders it reads are read (a
        wrong ``IDC_SQL_MAX_GB`` is no local matter)."""
        env = os.environ if environ is None else environ
        return cls(index_dir=Path(index_dir) if index_dir else default_index_dir(env))

    @property
    def cap_bytes(self) -> int:
        """The cap in bytes."""
        return int(self.max_gb * 10**9)


def default_cache_dir(env: Mapping[str, str]) -> Path:
    """``IDC_SQL_CACHE_DIR``, else ``$XDG_CACHE_HOME/idc-sql``, else ``~/.cache/idc-sql``."""
    base = env.get(ENV_CACHE_DIR)
    if base:
        return Path(base)
    xdg = env.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "idc-sql"


def default_index_dir(env: Mapping[str, str]) -> Path | None:
    """``IDC_SQL_INDEX_DIR``, else None."""
    base = env.get(ENV_INDEX_DIR)
    return Path(base) if base else None


def _from_env(env: Mapping[str, str], name: str, what: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise UsageError(f"{name}={raw!r} is not {what}") from None


def _bounded(value: Any, bounds: tuple[float, float], named: tuple[Piece, ...], unit: str) -> None:
    low, high = bounds
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or not low <= value <= high:
        raise UsageError(*named, f" is not allowed: give a number from {low:g} to {high:g} {unit}")


# ----------------------------------------------------------------------------- notices

NoticeKind = Literal["estimate", "progress", "progress_done", "cancelled", "note", "warning"]


@dataclass(frozen=True)
class Notice:
    """Something a person running a query may want to see; ``pieces`` as in errors."""

    kind: NoticeKind
    pieces: tuple[Piece, ...] = ()
    #: structured details (bytes processed, elapsed seconds, a job id, ...)
    details: Mapping[str, Any] = field(default_factory=dict)


Reporter = Callable[[Notice], None]


def silent(notice: Notice) -> None:
    """The default reporter: the library says nothing unless asked."""
