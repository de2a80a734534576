"""The IDX reader, the shipped sample and the downloader (with fake openers: no network)."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from training import data as D
from training.data import (
    SAMPLE_DIR,
    ChecksumError,
    DownloadError,
    IDXError,
    download_mnist,
    load_full,
    load_mnist,
    load_sample,
    parse_idx,
    read_idx,
)

IMAGES, LABELS = "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"
CLASS_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]  # data/mnist/README.md


def idx_bytes(arr: np.ndarray) -> bytes:
    codes = {np.dtype(np.uint8): 0x08, np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D}
    header = bytes([0, 0, codes[arr.dtype], arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


# ----------------------------------------------------------------------------- reader


def test_shipped_files_read_and_match_readme() -> None:
    images = read_idx(SAMPLE_DIR / IMAGES, D.SAMPLE_FILES[IMAGES])
    labels = read_idx(SAMPLE_DIR / LABELS, D.SAMPLE_FILES[LABELS])
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.dtype == np.uint8
    assert np.bincount(labels, minlength=10).tolist() == CLASS_COUNTS
    assert 0 < images.mean() < 255 and images.max() == 255


def test_readme_credits_authors_and_license() -> None:
    text = (SAMPLE_DIR / "README.md").read_text()
    for needed in ("LeCun", "Cortes", "Burges", "CC BY-SA 3.0", *D.SAMPLE_FILES.values()):
        assert needed in text


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.float32])
def test_roundtrip_raw_and_gzip(tmp_path: Path, dtype: type) -> None:
    arr = (np.arange(2 * 3 * 4) - 5).astype(dtype).reshape(2, 3, 4)
    if dtype is np.uint8:
        arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    raw, gz = tmp_path / "a.idx", tmp_path / "a.idx.gz"
    raw.write_bytes(idx_bytes(arr))
    gz.write_bytes(gzip.compress(idx_bytes(arr)))
    np.testing.assert_array_equal(read_idx(raw), arr)
    np.testing.assert_array_equal(read_idx(gz), arr)  # told apart by content, not by name


@pytest.fixture(scope="module")
def label_bytes() -> bytes:
    return gzip.decompress((SAMPLE_DIR / LABELS).read_bytes())


@pytest.mark.parametrize("cut", [0, 3, 6, 8, 9, 5000, 10007])
def test_truncated_raw_file_names_the_file(tmp_path: Path, label_bytes: bytes, cut: int) -> None:
    path = tmp_path / "labels-truncated.idx"
    path.write_bytes(label_bytes[:cut])
    with pytest.raises(IDXError, match="labels-truncated.idx"):
        read_idx(path)


@pytest.mark.parametrize("cut", [10, 100, 2000, 4541])
def test_truncated_gzip_names_the_file(tmp_path: Path, cut: int) -> None:
    path = tmp_path / LABELS
    path.write_bytes((SAMPLE_DIR / LABELS).read_bytes()[:cut])
    with pytest.raises(IDXError, match=LABELS) as err:
        read_idx(path)
    assert isinstance(err.value, ValueError)


def test_corrupted_gzip_names_the_file(tmp_path: Path) -> None:
    blob = bytearray((SAMPLE_DIR / LABELS).read_bytes())
    for i in range(100, 140):  # damage the deflate stream (or its CRC check catches it)
        blob[i] ^= 0xFF
    path = tmp_path / "damaged.gz"
    path.write_bytes(bytes(blob))
    with pytest.raises(IDXError, match="damaged.gz"):
        read_idx(path)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b"\x01" + b[1:], "magic"),
        (lambda b: b[:2] + b"\x42" + b[3:], "element type"),
        (lambda b: b[:3] + b"\x00" + b[4:], "dimensions"),
        (lambda b: b[:3] + b"\x09" + b[4:], "dimensions"),
        (lambda b: b[:4] + struct.pack(">I", 10001) + b[8:], "truncated"),
        (lambda b: b[:4] + struct.pack(">I", 0xFFFFFFFF) + b[8:], "implausibly large"),
        (lambda b: b + b"\x00\x00", "trailing"),
    ],
)
def test_corrupted_headers(tmp_path: Path, label_bytes: bytes, mutate, message: str) -> None:
    path = tmp_path / "bad-labels.idx"
    path.write_bytes(mutate(label_bytes))
    with pytest.raises(IDXError, match=message) as err:
        read_idx(path)
    assert "bad-labels.idx" in str(err.value)


def test_missing_file_is_an_idx_error(tmp_path: Path) -> None:
    with pytest.raises(IDXError, match="nothing-here"):
        read_idx(tmp_path / "nothing-here.gz")


def test_parse_idx_rejects_garbage() -> None:
    for blob in (b"", b"\x00\x00", b"hello world"):
        with pytest.raises(IDXError):
            parse_idx(blob)


# ----------------------------------------------------------------------------- sample


def test_sample_split_is_deterministic_and_disjoint(sample) -> None:
    assert (sample.n_train, sample.n_val) == (8000, 2000)
    assert sample.source == "sample"
    assert sample.x_train.dtype == np.uint8 and sample.y_train.dtype == np.int32
    both = np.concatenate([sample.y_train, sample.y_val])
    assert np.bincount(both, minlength=10).tolist() == CLASS_COUNTS
    again = load_sample()
    np.testing.assert_array_equal(again.x_val, sample.x_val)
    np.testing.assert_array_equal(again.y_train, sample.y_train)
    # Every class is in the validation split in about its share (the split is shuffled,
    # not the file's order, whose two halves come from different writers).
    val_counts = np.bincount(sample.y_val, minlength=10)
    assert np.all(np.abs(val_counts - np.array(CLASS_COUNTS) / 5) < 45)
    # No image is in both splits.
    train_hashes = {hashlib.sha1(x.tobytes()).digest() for x in sample.x_train}
    assert not any(hashlib.sha1(x.tobytes()).digest() in train_hashes for x in sample.x_val)
    # Fixed split: the validation labels never change (guards the permutation's stability).
    assert hashlib.sha256(sample.y_val.tobytes()).hexdigest()[:16] == VAL_LABELS_SHA


VAL_LABELS_SHA = "a30d1073bcc32e69"  # recorded when the split was fixed


def test_validation_split_independent_of_train_size(sample) -> None:
    small = load_sample(train_size=1000)
    assert small.n_train == 1000
    np.testing.assert_array_equal(small.y_val, sample.y_val)
    np.testing.assert_array_equal(small.x_train, sample.x_train[:1000])
    with pytest.raises(ValueError, match="train_size"):
        load_sample(train_size=9000)


def test_checksum_failure_of_the_sample(tmp_path: Path) -> None:
    raw = bytearray(gzip.decompress((SAMPLE_DIR / LABELS).read_bytes()))
    raw[8] = (raw[8] + 1) % 10  # a valid IDX file, one label changed
    (tmp_path / LABELS).write_bytes(gzip.compress(bytes(raw)))
    (tmp_path / IMAGES).write_bytes((SAMPLE_DIR / IMAGES).read_bytes())
    with pytest.raises(ChecksumError, match=LABELS) as err:
        load_sample(directory=tmp_path)
    assert isinstance(err.value, IDXError) and isinstance(err.value, ValueError)
    assert "SHA-256" in str(err.value)


# ----------------------------------------------------------------------------- download


def fake_mnist_files(n_train: int = 100, n_test: int = 40) -> dict[str, bytes]:
    """Small but valid MNIST-shaped .gz files, keyed like the real ones."""
    rng = np.random.default_rng(0)
    files = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        files[f"{prefix}-images-idx3-ubyte.gz"] = gzip.compress(
            idx_bytes(rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        )
        files[f"{prefix}-labels-idx1-ubyte.gz"] = gzip.compress(
            idx_bytes(rng.integers(0, 10, n, dtype=np.uint8))
        )
    return files


def md5s(files: dict[str, bytes]) -> dict[str, str]:
    return {k: hashlib.md5(v).hexdigest() for k, v in files.items()}


class FakeOpener:
    """Serves `files` for URLs under `good` mirrors; records every URL asked for."""

    def __init__(
        self,
        files: dict[str, bytes],
        good: tuple[str, ...] = ("https://good/",),
        corrupt: tuple[str, ...] = (),
        interrupt: tuple[str, ...] = (),
    ):
        self.files, self.good, self.corrupt, self.interrupt = files, good, corrupt, interrupt
        self.urls: list[str] = []

    def __call__(self, url: str, timeout: float) -> io.BufferedIOBase:
        self.urls.append(url)
        mirror, name = url.rsplit("/", 1)
        mirror += "/"
        if mirror in self.corrupt:
            return io.BytesIO(self.files[name][:-10] + b"0123456789")
        if mirror in self.interrupt:
            return Interrupted(self.files[name])
        if mirror not in self.good:
            raise OSError(f"[Errno -3] Temporary failure in name resolution: {mirror}")
        return io.BytesIO(self.files[name])


class Interrupted(io.BytesIO):
    """Delivers a first chunk, then the connection drops."""

    def read(self, size: int = -1) -> bytes:
        if self.tell() > 0:
            raise ConnectionResetError("connection reset by peer")
        return super().read(min(size, 1000) if size and size > 0 else 1000)


def leftovers(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


def test_download_success_then_cached(tmp_path: Path) -> None:
    files = fake_mnist_files()
    opener = FakeOpener(files)
    cache = download_mnist(
        tmp_path / "c", mirrors=["https://down/", "https://good/"], opener=opener, checksums=md5s(files)
    )
    assert leftovers(cache) == sorted(files)
    for name, blob in files.items():
        assert (cache / name).read_bytes() == blob
    assert len(opener.urls) == 8  # each file: the dead mirror, then the good one
    opener.urls.clear()
    download_mnist(cache, mirrors=["https://good/"], opener=opener, checksums=md5s(files))
    assert opener.urls == []  # verified files are not fetched again
    split = load_full(cache, checksums=md5s(files), opener=opener, mirrors=["https://good/"])
    assert (split.n_train, split.n_val, split.source) == (100, 40, "full")


def test_bad_checksum_leaves_no_file(tmp_path: Path) -> None:
    files = fake_mnist_files()
    opener = FakeOpener(files, good=(), corrupt=("https://evil/",))
    with pytest.raises(DownloadError, match="MD5"):
        download_mnist(tmp_path, mirrors=["https://evil/"], opener=opener, checksums=md5s(files))
    assert leftovers(tmp_path) == []


def test_corrupt_mirror_falls_through_to_a_good_one(tmp_path: Path) -> None:
    files = fake_mnist_files()
    opener = FakeOpener(files, corrupt=("https://evil/",))
    download_mnist(tmp_path, mirrors=["https://evil/", "https://good/"], opener=opener, checksums=md5s(files))
    assert leftovers(tmp_path) == sorted(files)


def test_interrupted_download_leaves_no_partial_file(tmp_path: Path) -> None:
    files = fake_mnist_files()
    opener = FakeOpener(files, good=(), interrupt=("https://flaky/",))
    with pytest.raises(DownloadError, match="connection reset"):
        download_mnist(tmp_path, mirrors=["https://flaky/"], opener=opener, checksums=md5s(files))
    assert leftovers(tmp_path) == []


def test_stale_temp_files_are_cleared(tmp_path: Path) -> None:
    files = fake_mnist_files()
    old, fresh = tmp_path / ".train-images-idx3-ubyte.gz.abc.part", tmp_path / ".x.def.part"
    old.write_bytes(b"half")
    fresh.write_bytes(b"in progress elsewhere")
    os.utime(old, (0, 0))
    download_mnist(tmp_path, mirrors=["https://good/"], opener=FakeOpener(files), checksums=md5s(files))
    assert not old.exists() and fresh.exists()


def test_damaged_cached_file_is_downloaded_again(tmp_path: Path) -> None:
    files = fake_mnist_files()
    name = "train-labels-idx1-ubyte.gz"
    for k, v in files.items():
        (tmp_path / k).write_bytes(v)
    (tmp_path / name).write_bytes(files[name][:20])  # a half-written file from elsewhere
    opener = FakeOpener(files)
    download_mnist(tmp_path, mirrors=["https://good/"], opener=opener, checksums=md5s(files))
    assert opener.urls == [f"https://good/{name}"]
    assert (tmp_path / name).read_bytes() == files[name]


def test_file_urls_with_the_default_opener(tmp_path: Path) -> None:
    files = fake_mnist_files()
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for k, v in files.items():
        (mirror / k).write_bytes(v)
    cache = download_mnist(tmp_path / "cache", mirrors=[mirror.as_uri() + "/"], checksums=md5s(files))
    assert leftovers(cache) == sorted(files)


def test_no_network_falls_back_to_the_sample(tmp_path: Path) -> None:
    messages: list[str] = []
    opener = FakeOpener(fake_mnist_files(), good=())
    split = load_mnist("full", cache_dir=tmp_path, log=messages.append, opener=opener)
    assert split.source == "sample" and split.n_train == 8000
    assert "offline sample" in split.note and "no network" in split.note
    assert any("offline sample" in m for m in messages)
    assert leftovers(tmp_path) == []


def test_unwritable_cache_falls_back_to_the_sample(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    split = load_mnist("full", cache_dir=blocker / "cache", opener=FakeOpener({}, good=()))
    assert split.source == "sample" and "offline sample" in split.note


def test_corrupt_cached_full_set_is_reported_not_hidden(tmp_path: Path) -> None:
    files = fake_mnist_files()
    bad = dict(files)
    bad["t10k-labels-idx1-ubyte.gz"] = gzip.compress(idx_bytes(np.zeros(39, np.uint8)))
    for k, v in bad.items():
        (tmp_path / k).write_bytes(v)
    with pytest.raises(IDXError, match="t10k-images-idx3-ubyte.gz has 40 images"):
        load_full(tmp_path, download=False, checksums=md5s(bad))


def test_cache_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(D.CACHE_ENV, str(tmp_path / "x"))
    assert D.default_cache_dir() == tmp_path / "x"
    monkeypatch.delenv(D.CACHE_ENV)
    assert D.default_cache_dir() == Path.home() / ".cache" / "optimizer-playground" / "mnist"


def test_published_checksums_and_mirrors_look_right() -> None:
    assert set(D.FULL_FILES) == {
        f"{p}-{k}-idx{d}-ubyte.gz" for p in ("train", "t10k") for k, d in (("images", 3), ("labels", 1))
    }
    assert all(len(v) == 32 and int(v, 16) >= 0 for v in D.FULL_FILES.values())
    assert all(m.endswith("/") for m in D.MIRRORS) and len(D.MIRRORS) >= 2
    assert os.path.basename(str(SAMPLE_DIR)) == "mnist"


# ----------------------------------------------------------------------------- fuzz

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_arbitrary_bytes_never_escape_as_another_exception(blob: bytes) -> None:
    try:
        arr = parse_idx(blob, "fuzz")
    except IDXError as e:
        assert "fuzz" in str(e)
    else:  # it parsed: then it really was a well-formed IDX stream
        assert blob[:2] == b"\x00\x00" and arr.ndim == blob[3]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, 4541), st.integers(1, 255))
def test_any_damaged_byte_of_the_gzip_labels_is_caught(tmp_path: Path, pos: int, xor: int) -> None:
    blob = bytearray((SAMPLE_DIR / LABELS).read_bytes())
    blob[pos] ^= xor
    path = tmp_path / "fuzzed.gz"
    path.write_bytes(bytes(blob))
    try:
        labels = read_idx(path, D.SAMPLE_FILES[LABELS])
    except IDXError as e:
        assert "fuzzed.gz" in str(e)
    else:  # only header bytes gzip itself ignores (mtime, OS, stored name) may change
        assert pos < _gzip_header_length(bytes(blob)) and labels.shape == (10000,)


def _gzip_header_length(blob: bytes) -> int:
    """10 fixed bytes, plus the NUL-terminated original file name when FNAME is set."""
    original = (SAMPLE_DIR / LABELS).read_bytes()
    if original[3] & 0x08:
        return original.index(b"\x00", 10) + 1
    return 10
