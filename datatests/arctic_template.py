"""The mock world's ArcticDB libraries, written once per process and copied into each world.

The self-tests seed this world once per fault, some 90 times in one xdist
worker. On LMDB (``--mock-arctic lmdb``), writing the 906 universe and 18
macro symbols is 1.1 to 1.6 s of every seed; copying the 12 MB of LMDB files
they make takes 10 ms. So the first seed of a process writes them into a
template store with the very code that would write them into the world, and
every seed after copies the template's LMDB environments, byte for byte,
into the world's store, where ArcticDB then opens them as the world's
libraries. Contracts and faults see the same world as before; each run
writes only to its own copy.

Anything but a fresh LMDB store (ArcticDB on the moto bucket, a store that
already holds one of the libraries) is written as before. No pytest import.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

# What a writer receives: library name -> ArcticDB library (created if missing).
Libraries = Callable[[str], Any]
Writer = Callable[[Libraries], None]

_CONFIG = "_arctic_cfg"  # ArcticDB's own directory of library configs, one per store
_DATA = "data.mdb"  # an LMDB environment's data; its lock.mdb is per process, never copied
_templates: dict[Hashable, Path] = {}


def lmdb_root(arctic: Any) -> Path | None:
    """The directory of an ``lmdb://`` store, None for any other."""
    uri = str(arctic.get_uri())
    if not uri.startswith("lmdb://"):
        return None
    return Path(uri.removeprefix("lmdb://").split("?", 1)[0])


def seed_libraries(arctic: Any, key: Hashable, write: Writer) -> None:
    """Make ``arctic`` hold the libraries ``write`` writes; ``key`` names what it writes
    (equal keys, equal libraries), so a process writes each template once."""
    root = lmdb_root(arctic)
    if root is None or arctic.list_libraries():
        write(lambda name: arctic.get_library(name, create_if_missing=True))
        return
    template = _templates.get(key) or _build(key, write)
    libraries = sorted(p.name for p in template.iterdir() if p.is_dir() and p.name != _CONFIG)
    for name in libraries:
        (root / name).mkdir()
        shutil.copyfile(template / name / _DATA, root / name / _DATA)
    for name in libraries:
        # Registers the library in this store's config; ArcticDB opens the copied data.
        arctic.get_library(name, create_if_missing=True)


def _build(key: Hashable, write: Writer) -> Path:
    base = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    path = Path(tempfile.mkdtemp(prefix="datatests-arctic-template-", dir=base))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    _write(path, write)
    _templates[key] = path
    return path


def _write(path: Path, write: Writer) -> None:
    """Write the template. Every write has committed when ``write`` returns, and the
    store is dropped on return, its environments closed: a plain file copy is consistent."""
    import arcticdb

    store = arcticdb.Arctic(f"lmdb://{path}")
    write(lambda name: store.get_library(name, create_if_missing=True))
