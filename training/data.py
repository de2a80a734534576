"""MNIST data: an IDX reader, the shipped offline sample and the full set from public mirrors.

* `read_idx(path)` reads an IDX file (gzip-compressed or raw, told apart by content, not by
  name) and validates it: magic number, element type, dimensions and exact size. Anything
  wrong raises `IDXError` (a `ValueError`) whose message names the file. The file is streamed:
  the header's dimensions fix the exact size first (at most `MAX_IDX_BYTES`), a gzip member is
  inflated (zlib, in C) in 1 MiB chunks into a buffer of exactly that size, and one byte more is a refusal,
  so a small gzip that would inflate to gigabytes costs no more memory than its header claims.
* `load_sample()` loads the 10,000 real MNIST test images shipped in `data/mnist/`, checks
  them against the SHA-256 of their decompressed content, and splits them into train and
  validation with a fixed permutation (the same on every machine and every NumPy version).
* `download_mnist()` fetches the full 60k/10k set from the standard mirrors into a cache
  directory, checks each `.gz` against the MD5 that torchvision publishes, and only ever moves
  a verified file into place (temp file + `os.replace`), so a half-written file is never used.
  Each download is streamed with a byte cap (the file's known size, `FULL_SIZES`) and a time
  cap: a mirror that sends more, or announces more, is cut off at the cap and its bytes deleted.
* `load_mnist("full")` uses the cache, downloads when needed, and falls back to the sample
  with a clear message when the network is not there.

Images are kept as uint8 (N, 28, 28) and labels as int32 (N,): the training step scales
pixels to [0, 1] on the fly, which keeps the full set at 47 MB instead of 188 MB.
"""

from __future__ import annotations

import hashlib
import math
import os
import stat
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

__all__ = [
    "CACHE_ENV",
    "FULL_FILES",
    "FULL_SIZES",
    "MAX_DOWNLOAD_BYTES",
    "MAX_IDX_BYTES",
    "MIRRORS",
    "SAMPLE_DIR",
    "SAMPLE_FILES",
    "ChecksumError",
    "DownloadError",
    "IDXError",
    "MNISTSplit",
    "default_cache_dir",
    "download_mnist",
    "load_full",
    "load_mnist",
    "load_sample",
    "parse_idx",
    "read_idx",
]

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "data" / "mnist"
CACHE_ENV = "OPTIMIZER_PLAYGROUND_MNIST_DIR"

# SHA-256 of the decompressed IDX content of the shipped sample (see data/mnist/README.md).
SAMPLE_FILES: dict[str, str] = {
    "t10k-images-idx3-ubyte.gz": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte.gz": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

# MD5 of the mirrors' .gz files, as published by torchvision's MNIST dataset.
FULL_FILES: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}

# Byte sizes of those .gz files (the same on every mirror: the MD5s pin the bytes). A download
# is cut off as soon as it grows past its file's size.
FULL_SIZES: dict[str, int] = {
    "train-images-idx3-ubyte.gz": 9_912_422,
    "train-labels-idx1-ubyte.gz": 28_881,
    "t10k-images-idx3-ubyte.gz": 1_648_877,
    "t10k-labels-idx1-ubyte.gz": 4_542,
}
# The cap for a file whose size is not known (callers' own checksums): above the largest file.
MAX_DOWNLOAD_BYTES = 16 << 20
# A download that takes longer than this (per file and mirror) is abandoned, however it trickles.
DOWNLOAD_SECONDS = 900.0

MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

# A fixed seed for the sample's train/validation split. np.random.RandomState is NumPy's
# frozen legacy generator: its stream is guaranteed never to change, unlike default_rng's.
SPLIT_SEED = 20180101

_IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"
# An IDX file whose header declares more bytes than this is refused before anything is read:
# the largest MNIST file (60,000 training images) is 47,040,016 bytes.
MAX_IDX_BYTES = 48 << 20
_CHUNK = 1 << 20


class IDXError(ValueError):
    """A file is not valid IDX data (bad magic, dimensions, size, checksum or gzip stream)."""


class ChecksumError(IDXError):
    """A file's checksum does not match the published one."""


class DownloadError(OSError):
    """No mirror could deliver a verified copy of a file (no network, or all copies bad)."""


# ----------------------------------------------------------------------------- IDX reader


def _idx_layout(head: bytes, name: str, max_bytes: int) -> tuple[np.dtype, tuple[int, ...], int]:
    """(element type, dimensions, header length) from the start of an IDX stream.

    `head` holds at least the header (4 + 4 * ndim bytes) or the whole stream if shorter. The
    declared size (header + product of dimensions x item size) must not exceed `max_bytes`.
    """
    if len(head) < 4:
        raise IDXError(f"{name}: too short for an IDX header ({len(head)} bytes)")
    if head[0] != 0 or head[1] != 0:
        raise IDXError(f"{name}: bad IDX magic number {head[:4].hex()} (must start with 0000)")
    type_code, ndim = head[2], head[3]
    if type_code not in _IDX_TYPES:
        raise IDXError(f"{name}: unknown IDX element type 0x{type_code:02x}")
    if not 1 <= ndim <= 4:
        raise IDXError(f"{name}: unsupported number of IDX dimensions {ndim}")
    header = 4 + 4 * ndim
    if len(head) < header:
        raise IDXError(f"{name}: truncated IDX header ({len(head)} of {header} bytes)")
    dims = tuple(int(d) for d in np.frombuffer(head, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_TYPES[type_code]
    expected = header + math.prod(dims) * dtype.itemsize  # exact: Python integers
    if expected > max_bytes:
        raise IDXError(
            f"{name}: IDX dimensions {dims} are implausibly large ({expected} bytes; "
            f"at most {max_bytes} are read)"
        )
    return dtype, dims, header


def _to_array(payload: bytes | bytearray, dtype: np.dtype, dims: tuple[int, ...]) -> np.ndarray:
    arr = np.frombuffer(payload, dtype=dtype).reshape(dims)
    if dtype.itemsize == 1:  # no byte order to fix: keep the buffer (a bytearray is writable)
        return arr if isinstance(payload, bytearray) else arr.copy()
    return arr.astype(dtype.newbyteorder("="), copy=True)


def parse_idx(data: bytes, name: str = "<bytes>", max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """Parse raw (already decompressed) IDX bytes; `name` is used in error messages."""
    dtype, dims, header = _idx_layout(data[:20], name, max_bytes)
    expected = header + math.prod(dims) * dtype.itemsize
    if len(data) < expected:
        raise IDXError(
            f"{name}: truncated IDX data: dimensions {dims} need {expected} bytes, file has {len(data)}"
        )
    if len(data) > expected:
        raise IDXError(f"{name}: {len(data) - expected} unexpected trailing bytes after IDX data {dims}")
    return _to_array(data[header:], dtype, dims)


class _Capped:
    """A file opened for reading that refuses to deliver more than `limit` bytes in total
    (bounds the compressed input a gzip reader may consume, e.g. from /dev/zero)."""

    def __init__(self, f: BinaryIO, limit: int, name: str) -> None:
        self.f, self.limit, self.name, self.done = f, limit, name, 0

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self.limit + 1 - self.done
        chunk = self.f.read(min(size, self.limit + 1 - self.done))
        self.done += len(chunk)
        if self.done > self.limit:
            raise IDXError(f"{self.name}: more than {self.limit} bytes of input; not an IDX file")
        return chunk


class _Gunzip:
    """Inflates one gzip member from `f` in bounded pieces, in C (zlib parses the header and
    checks the CRC and length); `read(n)` never returns more than `n` bytes. Unlike `GzipFile`
    it has no byte-by-byte Python loops (a long name field or zero padding costs nothing) and
    refuses anything after the member: the MNIST files are one member each."""

    def __init__(self, f: _Capped, name: str) -> None:
        self.f, self.name = f, name
        self.z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self.pending = b""  # compressed input not yet taken by zlib

    def read(self, n: int) -> bytes:
        while True:
            if self.z.eof:
                if self.z.unused_data or self.pending or self.f.read(1):
                    raise IDXError(f"{self.name}: unexpected data after the end of the gzip stream")
                return b""
            if not self.pending:
                self.pending = self.f.read(1 << 16)
                if not self.pending:
                    raise IDXError(f"{self.name}: corrupted or truncated gzip data (the stream ends early)")
            out = self.z.decompress(self.pending, n)
            self.pending = self.z.unconsumed_tail
            if out:
                return out


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    """Up to `n` bytes (fewer only at the end of the stream), read in bounded chunks."""
    parts, got = [], 0
    while got < n:
        chunk = stream.read(min(_CHUNK, n - got))
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def _stream_idx(stream: BinaryIO, name: str, max_bytes: int, hasher: hashlib._Hash | None) -> np.ndarray:
    """Read one IDX array from `stream` (decompressed bytes) with its exact declared size."""
    head = _read_exact(stream, 4)
    if len(head) == 4 and head[:2] == b"\x00\x00" and 1 <= head[3] <= 4:
        head += _read_exact(stream, 4 * head[3])
    dtype, dims, header = _idx_layout(head, name, max_bytes)
    size = math.prod(dims) * dtype.itemsize
    payload = bytearray(size)  # at most max_bytes: the header was checked first
    view, got = memoryview(payload), 0
    while got < size:
        chunk = stream.read(min(_CHUNK, size - got))
        if not chunk:
            raise IDXError(
                f"{name}: truncated IDX data: dimensions {dims} need "
                f"{header + size} bytes, file has {header + got}"
            )
        view[got : got + len(chunk)] = chunk
        got += len(chunk)
    if stream.read(1):  # one byte past the declared size is enough to refuse
        raise IDXError(
            f"{name}: unexpected trailing bytes after IDX data {dims} (the content "
            f"is longer than the {header + size} bytes its header declares)"
        )
    if hasher is not None:
        hasher.update(head)
        hasher.update(payload)
    return _to_array(payload, dtype, dims)


def read_idx(
    path: str | os.PathLike[str], sha256: str | None = None, max_bytes: int = MAX_IDX_BYTES
) -> np.ndarray:
    """Read an IDX file (raw or gzip); optionally check the SHA-256 of the decompressed bytes.

    Streams the file: nothing beyond the size its header declares (at most `max_bytes`) is
    ever held, whatever the file or its gzip stream would inflate to.
    """
    path = Path(path)
    name = str(path)
    hasher = hashlib.sha256() if sha256 is not None else None
    try:
        f = path.open("rb")
    except OSError as e:
        raise IDXError(f"{path}: cannot read: {e}") from e
    try:
        with f:
            # Compressed input is bounded too: no real gzip of at most max_bytes is larger.
            capped = _Capped(f, max_bytes + (1 << 20), name)
            if f.peek(2)[:2] == _GZIP_MAGIC:
                gz = _Gunzip(capped, name)
                arr = _stream_idx(gz, name, max_bytes, hasher)  # type: ignore[arg-type]
            else:
                arr = _stream_idx(capped, name, max_bytes, hasher)  # type: ignore[arg-type]
    except zlib.error as e:  # a damaged deflate stream, header, CRC or length
        raise IDXError(f"{path}: corrupted or truncated gzip data ({e})") from e
    except IDXError:
        raise
    except OSError as e:
        raise IDXError(f"{path}: cannot read: {e}") from e
    if hasher is not None and hasher.hexdigest() != sha256:
        raise ChecksumError(
            f"{path}: SHA-256 of the decompressed content is {hasher.hexdigest()}, expected "
            f"{sha256} (the file is damaged or not the shipped MNIST sample)"
        )
    return arr


def _check_images_labels(
    images: np.ndarray, labels: np.ndarray, images_path: Path, labels_path: Path
) -> None:
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise IDXError(
            f"{images_path}: expected uint8 images of shape (N, 28, 28), got {images.dtype} {images.shape}"
        )
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise IDXError(
            f"{labels_path}: expected uint8 labels of shape (N,), got {labels.dtype} {labels.shape}"
        )
    if images.shape[0] != labels.shape[0]:
        raise IDXError(
            f"{images_path} has {images.shape[0]} images but {labels_path} has {labels.shape[0]} labels"
        )
    if labels.size and int(labels.max()) > 9:
        raise IDXError(f"{labels_path}: label {int(labels.max())} is not a digit 0-9")


def _read_pair(
    images_path: Path, labels_path: Path, sha256: tuple[str | None, str | None] = (None, None)
) -> tuple[np.ndarray, np.ndarray]:
    images = read_idx(images_path, sha256[0])
    labels = read_idx(labels_path, sha256[1])
    _check_images_labels(images, labels, images_path, labels_path)
    return images, labels.astype(np.int32)


# ----------------------------------------------------------------------------- splits


@dataclass(frozen=True, eq=False)
class MNISTSplit:
    """Train and validation arrays: images uint8 (N, 28, 28), labels int32 (N,)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    source: str  # "sample" or "full"
    note: str = ""  # e.g. why the full set was not used

    @property
    def n_train(self) -> int:
        return int(self.x_train.shape[0])

    @property
    def n_val(self) -> int:
        return int(self.x_val.shape[0])

    def subset(self, train_size: int | None = None, val_size: int | None = None) -> MNISTSplit:
        """The first `train_size` / `val_size` examples (the order is already shuffled)."""
        nt = self.n_train if train_size is None else _check_size("train_size", train_size, self.n_train)
        nv = self.n_val if val_size is None else _check_size("val_size", val_size, self.n_val)
        return MNISTSplit(
            self.x_train[:nt], self.y_train[:nt], self.x_val[:nv], self.y_val[:nv], self.source, self.note
        )


def _check_size(name: str, value: int, available: int) -> int:
    if not 1 <= int(value) <= available:
        raise ValueError(f"{name} must be between 1 and {available}, got {value}")
    return int(value)


def load_sample(
    train_size: int = 8000,
    val_size: int = 2000,
    directory: str | os.PathLike[str] | None = None,
) -> MNISTSplit:
    """The shipped 10k sample, verified, split by a fixed permutation into train/validation.

    The validation images are always the same ones (the last `val_size` of the permutation),
    whatever `train_size` is, so curves of runs with different training-set sizes compare.
    """
    directory = SAMPLE_DIR if directory is None else Path(directory)
    names = list(SAMPLE_FILES)
    images, labels = _read_pair(
        directory / names[0], directory / names[1], (SAMPLE_FILES[names[0]], SAMPLE_FILES[names[1]])
    )
    n = images.shape[0]
    val_size = _check_size("val_size", val_size, n - 1)
    train_size = _check_size("train_size", train_size, n - val_size)
    perm = np.random.RandomState(SPLIT_SEED).permutation(n)
    train_idx, val_idx = perm[:train_size], perm[n - val_size :]
    return MNISTSplit(images[train_idx], labels[train_idx], images[val_idx], labels[val_idx], "sample")


# ----------------------------------------------------------------------------- download

Opener = Callable[[str, float], BinaryIO]


def _urlopen(url: str, timeout: float) -> BinaryIO:
    return urllib.request.urlopen(url, timeout=timeout)  # noqa: S310 (mirrors are http(s))


def default_cache_dir() -> Path:
    """$OPTIMIZER_PLAYGROUND_MNIST_DIR, else ~/.cache/optimizer-playground/mnist."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "optimizer-playground" / "mnist"


def _md5(path: Path) -> str:
    h = hashlib.md5()  # noqa: S324 (MD5 is what the mirrors publish; integrity, not security)
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _declared_length(resp: object) -> int | None:
    """The Content-Length the server announced, if any (http(s) and file:// responses)."""
    headers = getattr(resp, "headers", None)
    raw = headers.get("Content-Length") if headers is not None else None
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


def _fetch_one(
    url: str,
    dest: Path,
    md5: str,
    opener: Opener,
    timeout: float,
    max_bytes: int,
    max_seconds: float = DOWNLOAD_SECONDS,
) -> None:
    """Download `url` to a temp file beside `dest`, verify it, then atomically rename it.

    At most `max_bytes` are written: a response announcing more is refused before its body is
    read, and one that sends more is cut off as soon as it crosses the cap. A transfer slower
    than `max_seconds` in total is abandoned. The temp file is deleted whatever happens.
    """
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    started = time.monotonic()
    try:
        with os.fdopen(fd, "wb") as out, opener(url, timeout) as resp:
            declared = _declared_length(resp)
            if declared is not None and declared > max_bytes:
                raise DownloadError(
                    f"{url}: the server announces {declared} bytes, more than "
                    f"the {max_bytes} this file has; not downloaded"
                )
            written = 0
            while True:
                # Ask for one byte more than the cap allows, so crossing it is seen at once.
                chunk = resp.read(min(1 << 16, max_bytes + 1 - written))
                if not chunk:
                    break
                if written + len(chunk) > max_bytes:
                    raise DownloadError(
                        f"{url}: more than {max_bytes} bytes (the file's size); "
                        "download stopped and discarded"
                    )
                out.write(chunk)
                written += len(chunk)
                if time.monotonic() - started > max_seconds:
                    raise DownloadError(
                        f"{url}: slower than {max_seconds:g} s for {written} bytes; download abandoned"
                    )
            out.flush()
            os.fsync(out.fileno())
        got = _md5(tmp)
        if got != md5:
            raise ChecksumError(f"{url}: MD5 {got} does not match the published {md5}")
        os.replace(tmp, dest)  # atomic on POSIX: dest is either absent or complete
    finally:
        tmp.unlink(missing_ok=True)


def _verified(path: Path, md5: str, size: int | None) -> bool:
    """Whether `path` is a regular file (not a link) of the right size and MD5. A file of the
    wrong size is not hashed at all (a planted 10 GB file costs nothing)."""
    try:
        st = path.lstat()
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode) or (size is not None and st.st_size != size):
        return False
    return _md5(path) == md5


def download_mnist(
    cache_dir: str | os.PathLike[str] | None = None,
    mirrors: Sequence[str] | None = None,
    opener: Opener | None = None,
    timeout: float = 10.0,  # per socket operation, not per file
    files: Iterable[str] | None = None,
    log: Callable[[str], None] | None = None,
    checksums: Mapping[str, str] = FULL_FILES,
    sizes: Mapping[str, int] | None = None,
    max_seconds: float = DOWNLOAD_SECONDS,
) -> Path:
    """Make sure the full MNIST `.gz` files are in `cache_dir`, verified; return the directory.

    Files already present with the right size and MD5 are kept; any other file of that name is
    downloaded again. For each file the mirrors are tried in order; `opener(url, timeout)`
    returns a binary file-like object (inject a fake one, or use file:// mirrors, in tests).
    Raises `DownloadError` naming every failed attempt when no mirror delivered a good copy.
    `checksums` maps file name -> MD5 of the .gz (tests substitute small fake files); `sizes`
    maps file name -> exact byte size, the download's cap (default `FULL_SIZES` for the real
    checksums; a name without a size is capped at `MAX_DOWNLOAD_BYTES`).
    """
    cache = default_cache_dir() if cache_dir is None else Path(cache_dir).expanduser()
    cache.mkdir(parents=True, exist_ok=True)
    opener = _urlopen if opener is None else opener
    mirrors = MIRRORS if mirrors is None else mirrors
    if sizes is None:
        sizes = {k: v for k, v in FULL_SIZES.items() if checksums.get(k) == FULL_FILES.get(k)}
    # A killed process can leave a temp file behind (never used: only os.replace publishes a
    # file). Clear old ones; recent ones may belong to a download running in another process.
    for stale in cache.glob(".*.part"):
        try:
            if time.time() - stale.stat().st_mtime > 3600:
                stale.unlink()
        except OSError:
            pass
    for name in checksums if files is None else files:
        md5 = checksums[name]
        dest = cache / name
        size = sizes.get(name)
        if _verified(dest, md5, size):
            continue
        errors = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + name
            if log is not None:
                log(f"downloading {url}")
            try:
                _fetch_one(
                    url, dest, md5, opener, timeout, MAX_DOWNLOAD_BYTES if size is None else size, max_seconds
                )
                break
            except (OSError, ChecksumError, urllib.error.URLError, ValueError) as e:
                errors.append(f"{url}: {e}")
        else:
            raise DownloadError(f"could not download {name} from any mirror (" + "; ".join(errors) + ")")
    return cache


def load_full(
    cache_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    checksums: Mapping[str, str] = FULL_FILES,
    **download_kwargs: object,
) -> MNISTSplit:
    """The full set: 60k training images and the 10k test images as validation (as Keras does).

    Downloads missing files when `download` is true; raises `DownloadError` or `IDXError`.
    """
    cache = default_cache_dir() if cache_dir is None else Path(cache_dir).expanduser()
    if download:
        download_mnist(cache, checksums=checksums, **download_kwargs)  # type: ignore[arg-type]
    else:
        sizes = {k: v for k, v in FULL_SIZES.items() if checksums.get(k) == FULL_FILES.get(k)}
        for name, md5 in checksums.items():
            p = cache / name
            if not p.exists():
                raise DownloadError(f"{p} is missing and download=False")
            if not _verified(p, md5, sizes.get(name)):
                raise ChecksumError(f"{p}: size or MD5 does not match the published file (MD5 {md5})")
    x_tr, y_tr = _read_pair(cache / "train-images-idx3-ubyte.gz", cache / "train-labels-idx1-ubyte.gz")
    x_te, y_te = _read_pair(cache / "t10k-images-idx3-ubyte.gz", cache / "t10k-labels-idx1-ubyte.gz")
    return MNISTSplit(x_tr, y_tr, x_te, y_te, "full")


def load_mnist(
    which: str = "sample",
    cache_dir: str | os.PathLike[str] | None = None,
    log: Callable[[str], None] | None = None,
    **kwargs: Any,
) -> MNISTSplit:
    """`"sample"` or `"full"`; the full set falls back to the sample (with `note` and a log
    message saying why) when it cannot be downloaded. A corrupt *cached* file is not an
    outage: it raises `IDXError` naming the file rather than hiding behind the fallback."""
    if which == "sample":
        return load_sample(**kwargs)
    if which != "full":
        raise ValueError(f"data must be 'sample' or 'full', got {which!r}")
    try:
        return load_full(cache_dir, log=log, **kwargs)
    except OSError as e:  # DownloadError, or a cache directory we may not write to
        reason = str(e) if len(str(e)) < 300 else str(e)[:300] + "...)"
        note = (
            f"full MNIST unavailable, no network? {reason}. Using the 10k offline "
            "sample instead (8000 train / 2000 validation)."
        )
        if log is not None:
            log(note)
        s = load_sample()
        return MNISTSplit(s.x_train, s.y_train, s.x_val, s.y_val, "sample", note)
