"""Hostile MNIST files and mirrors: every cap of training.data is crossed here.

* IDX reading: a gzip bomb (1 MiB that inflates to 1 GiB) is refused after one byte past the
  size its header declares, with memory growth of a few MB; a header declaring more than
  MAX_IDX_BYTES is refused before any payload is read; compressed input is capped too.
* Downloads: a mirror sending endless bytes writes at most the file's known size to disk and
  leaves nothing behind; an announced Content-Length above the cap is refused unread; a mirror
  that trickles is abandoned after the time cap; a planted oversize or symlinked cache file is
  neither hashed nor followed.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import struct
import threading
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from training import data as D
from training.data import DownloadError, IDXError, download_mnist, read_idx

GIB = 1 << 30
LABELS = "t10k-labels-idx1-ubyte.gz"
IMAGES = "train-images-idx3-ubyte.gz"


def idx_header(dims: tuple[int, ...], type_code: int = 0x08) -> bytes:
    return bytes([0, 0, type_code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)


def gzip_of_zeros_after(prefix: bytes, zeros: int) -> bytes:
    """A valid gzip member of `prefix` followed by `zeros` zero bytes, built without ever
    holding them: 1 MiB of zeros deflates to the same ~1 kB block after each full flush."""
    assert zeros % (1 << 20) == 0
    mib = bytes(1 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate; the gzip framing is ours
    head = c.compress(prefix) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(mib) + c.flush(zlib.Z_FULL_FLUSH)
    tail = c.flush(zlib.Z_FINISH)
    crc = zlib.crc32(prefix)
    for _ in range(zeros >> 20):
        crc = zlib.crc32(mib, crc)
    size = len(prefix) + zeros
    return (
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
        + head
        + block * (zeros >> 20)
        + tail
        + struct.pack("<II", crc, size & 0xFFFFFFFF)
    )


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1 MiB of gzip that inflates to 1 GiB + 8 bytes: a label file's header declaring 10,000
    labels, then 1 GiB of zeros."""
    path = tmp_path_factory.mktemp("bomb") / LABELS
    path.write_bytes(gzip_of_zeros_after(idx_header((10_000,)), GIB))
    return path


def peak_bytes(fn: Callable[[], object]) -> tuple[int, BaseException | None]:
    """Peak Python-heap growth (NumPy buffers and bytes included) while `fn` runs."""
    tracemalloc.start()
    error = None
    try:
        fn()
    except BaseException as e:  # noqa: BLE001 - handed back for the test to check
        error = e
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, error


# ----------------------------------------------------------------------------- reading


def test_the_bomb_is_a_real_gzip_that_inflates_to_a_gibibyte(bomb: Path) -> None:
    blob = bomb.read_bytes()
    assert len(blob) < 1.2e6  # about 1 MB on disk
    assert struct.unpack("<I", blob[-4:])[0] == (GIB + 8) & 0xFFFFFFFF  # gzip's ISIZE field
    with gzip.open(bomb, "rb") as f:  # a standard reader accepts its start
        assert f.read(8) == idx_header((10_000,))
        assert f.read(1 << 20) == bytes(1 << 20)


def test_gzip_bomb_is_refused_after_one_byte_and_small_memory(
    bomb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inflated: list[int] = []
    real = D._Gunzip.read

    def counting(self: object, n: int) -> bytes:  # counts what the reader takes out
        chunk = real(self, n)
        inflated.append(len(chunk))
        return chunk

    monkeypatch.setattr(D._Gunzip, "read", counting)
    peak, error = peak_bytes(lambda: read_idx(bomb))
    assert isinstance(error, IDXError), error
    assert "trailing bytes" in str(error) and LABELS in str(error)
    # Header (8) + 10,000 labels + the one byte that proves there is more.
    assert sum(inflated) == 8 + 10_000 + 1
    assert peak < 4 << 20  # the old reader inflated all of it: 1 GiB in memory


def test_header_declaring_more_than_the_cap_is_refused_unread(tmp_path: Path) -> None:
    # 100,000 images of 28 x 28: 78 MB declared, over MAX_IDX_BYTES (48 MiB); the data that
    # follows would inflate to 1 GiB. Nothing of the declared size may be allocated.
    path = tmp_path / IMAGES
    path.write_bytes(gzip_of_zeros_after(idx_header((100_000, 28, 28)), 1 << 20))
    peak, error = peak_bytes(lambda: read_idx(path))
    assert isinstance(error, IDXError) and "implausibly large" in str(error)
    assert IMAGES in str(error)
    assert peak < 4 << 20
    # The full training set's real header is just below the cap.
    assert 16 + 60_000 * 28 * 28 <= D.MAX_IDX_BYTES < 16 + 100_000 * 28 * 28


def test_max_bytes_is_exact(tmp_path: Path) -> None:
    arr = np.arange(100, dtype=np.uint8)
    blob = idx_header((100,)) + arr.tobytes()  # 108 bytes
    path = tmp_path / "exact.idx.gz"
    path.write_bytes(gzip.compress(blob))
    np.testing.assert_array_equal(read_idx(path, max_bytes=108), arr)
    with pytest.raises(IDXError, match="implausibly large"):
        read_idx(path, max_bytes=107)


def test_compressed_input_is_capped_too(tmp_path: Path) -> None:
    # A gzip member whose header carries a 2 MiB "original file name": no output at all, but
    # input the reader would have to wade through. Above max_bytes + 1 MiB it is refused.
    name_field = b"n" * (2 << 20) + b"\x00"
    body = zlib.compressobj(9, zlib.DEFLATED, -15)
    payload = idx_header((4,)) + b"\x01\x02\x03\x04"
    deflated = body.compress(payload) + body.flush()
    blob = (
        b"\x1f\x8b\x08\x08\x00\x00\x00\x00\x02\xff"
        + name_field
        + deflated
        + struct.pack("<II", zlib.crc32(payload), len(payload))
    )
    path = tmp_path / "long-name.gz"
    path.write_bytes(blob)
    assert gzip.decompress(blob) == payload  # a valid gzip file
    with pytest.raises(IDXError, match="bytes of input") as err:
        read_idx(path, max_bytes=100)
    assert "long-name.gz" in str(err.value)
    np.testing.assert_array_equal(read_idx(path), [1, 2, 3, 4])  # fine at the default cap


def test_endless_raw_file_is_refused_after_one_byte(tmp_path: Path) -> None:
    # /dev/zero would be "an IDX file" with a zero header: magic 0000, type 0x00 -> refused.
    with pytest.raises(IDXError, match="element type"):
        read_idx("/dev/zero")
    fifo = tmp_path / "labels.fifo"
    os.mkfifo(fifo)

    def endless_writer() -> None:  # until the reader closes the pipe
        try:
            with open(fifo, "wb") as w:
                w.write(idx_header((10,)) + bytes(10))
                while True:
                    w.write(bytes(1 << 16))
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=endless_writer, daemon=True)
    writer.start()
    with pytest.raises(IDXError, match="trailing bytes"):
        read_idx(fifo)
    writer.join(timeout=30)
    assert not writer.is_alive()


# ----------------------------------------------------------------------------- downloads


class Endless(io.RawIOBase):
    """A response body that never ends; records the largest temp file seen in `watch`."""

    def __init__(self, watch: Path, headers: dict[str, str] | None = None) -> None:
        self.watch, self.headers = watch, headers or {}
        self.served = 0
        self.reads = 0
        self.largest_part = 0

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        for part in self.watch.glob(".*.part"):
            self.largest_part = max(self.largest_part, part.stat().st_size)
        n = 1 << 16 if size is None or size < 0 else size
        self.served += n
        return b"A" * n


class Opener:
    def __init__(self, make: Callable[[], io.RawIOBase]) -> None:
        self.make, self.responses = make, []

    def __call__(self, url: str, timeout: float) -> io.RawIOBase:
        self.responses.append(self.make())
        return self.responses[-1]


def leftovers(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir())


@pytest.mark.parametrize("name", [LABELS, IMAGES])
def test_endless_mirror_writes_at_most_the_files_size(tmp_path: Path, name: str) -> None:
    """300 MB (or any amount) for a 10 MB file: cut off at the cap, nothing left behind."""
    cap = D.FULL_SIZES[name]
    opener = Opener(lambda: Endless(tmp_path))
    with pytest.raises(DownloadError, match=f"more than {cap} bytes"):
        download_mnist(tmp_path, mirrors=["https://evil/"], opener=opener, files=[name])
    (resp,) = opener.responses
    assert resp.largest_part <= cap  # never more than the cap on disk
    assert resp.served <= cap + 1  # and never asked for more than one byte past it
    assert leftovers(tmp_path) == []


def test_announced_oversize_is_refused_unread(tmp_path: Path) -> None:
    opener = Opener(lambda: Endless(tmp_path, {"Content-Length": str(300_000_000)}))
    with pytest.raises(DownloadError, match="announces 300000000 bytes"):
        download_mnist(tmp_path, mirrors=["https://evil/"], opener=opener, files=[LABELS])
    assert opener.responses[0].reads == 0
    assert leftovers(tmp_path) == []


def test_file_without_a_known_size_has_the_general_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(D, "MAX_DOWNLOAD_BYTES", 5000)
    opener = Opener(lambda: Endless(tmp_path))
    with pytest.raises(DownloadError, match="more than 5000 bytes"):
        download_mnist(tmp_path, mirrors=["https://evil/"], opener=opener, checksums={"custom.gz": "0" * 32})
    assert opener.responses[0].largest_part <= 5000 and leftovers(tmp_path) == []


def test_a_file_of_exactly_the_cap_is_accepted(tmp_path: Path) -> None:
    blob = b"x" * 1234
    md5 = hashlib.md5(blob).hexdigest()
    cache = download_mnist(
        tmp_path,
        mirrors=["https://good/"],
        checksums={"f.gz": md5},
        sizes={"f.gz": 1234},
        opener=lambda url, t: io.BytesIO(blob),
    )
    assert (cache / "f.gz").read_bytes() == blob
    with pytest.raises(DownloadError, match="more than 1233 bytes"):
        download_mnist(
            tmp_path / "b",
            mirrors=["https://good/"],
            checksums={"f.gz": md5},
            sizes={"f.gz": 1233},
            opener=lambda url, t: io.BytesIO(blob),
        )


class Trickle(io.RawIOBase):
    def read(self, size: int = -1) -> bytes:
        return b"A"


def test_trickling_mirror_is_abandoned_after_the_time_cap(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="slower than 0 s"):
        download_mnist(
            tmp_path,
            mirrors=["https://slow/"],
            opener=Opener(Trickle),
            checksums={"f.gz": "0" * 32},
            sizes={"f.gz": 10**9},
            max_seconds=0,
        )
    assert leftovers(tmp_path) == []


def test_planted_cache_files_are_not_hashed_or_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blob = gzip.compress(idx_header((3,)) + b"\x01\x02\x03")
    md5 = hashlib.md5(blob).hexdigest()
    cache = tmp_path / "cache"
    cache.mkdir()
    with open(cache / "big.gz", "wb") as f:  # sparse: 1 GiB that costs no disk
        f.truncate(GIB)
    target = tmp_path / "precious"
    target.write_bytes(blob)  # right content, but behind a link someone planted
    (cache / "link.gz").symlink_to(target)
    hashed: list[Path] = []
    real_md5 = D._md5
    monkeypatch.setattr(D, "_md5", lambda p: hashed.append(Path(p).name) or real_md5(p))
    download_mnist(
        cache,
        mirrors=["https://good/"],
        opener=lambda url, t: io.BytesIO(blob),
        checksums={"big.gz": md5, "link.gz": md5},
        sizes={"big.gz": len(blob), "link.gz": len(blob)},
    )
    assert "big.gz" not in hashed and "precious" not in hashed  # only the new temp files
    assert (cache / "big.gz").stat().st_size == len(blob)
    assert not (cache / "link.gz").is_symlink() and (cache / "link.gz").read_bytes() == blob
    assert target.read_bytes() == blob  # the link was replaced, its target untouched


@pytest.mark.parametrize(
    "after", [b"\x00" * 4096, gzip.compress(b"more", mtime=0)], ids=["zero-padding", "second-member"]
)
def test_anything_after_the_gzip_member_is_refused(tmp_path: Path, after: bytes) -> None:
    # gzip.decompress accepts zero padding and further members (byte by byte, in Python):
    # the MNIST files are one member, so whatever follows it is refused.
    blob = gzip.compress(idx_header((3,)) + b"\x01\x02\x03")
    path = tmp_path / "two.gz"
    path.write_bytes(blob + after)
    with pytest.raises(IDXError, match="after the end of the gzip stream") as err:
        read_idx(path)
    assert "two.gz" in str(err.value)
