"""Exports: static images through Kaleido, self-contained HTML, an animated GIF, CSV and JSON.

Images need a Chromium-family browser (Debian's /usr/bin/chromium, or BROWSER_PATH). When there
is none, every image export raises ExportUnavailable with a message a page can show as it is;
the HTML, CSV and JSON exports never need a browser.

One Kaleido browser is started on first use and kept for every later image (starting one costs
about 2-3 s, a warm image about 0.1-0.3 s). It lives on its own event-loop thread, so it works
from Streamlit's script threads; a lock serializes renders.
"""

from __future__ import annotations

import asyncio
import atexit
import io
import math
import os
import threading
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from viz._data import decimate_indices, finite_length
from viz._style import TEMPLATE
from viz.colors import MINIMUM_COLOR, OUTLINE_COLOR, resolve_colors
from viz.contour import CLICK_GRID_NAME, _contour_trace, _minima_trace, _start_trace, display_label

if TYPE_CHECKING:
    from PIL import Image as PILImage

    from optim_core.trajectory import Trajectory
    from surfaces._base import Surface

RENDER_TIMEOUT_S = 60.0
DEFAULT_WIDTH = 900
DEFAULT_HEIGHT = 600


class ExportUnavailable(RuntimeError):
    """Static image export is not possible here (no browser for Kaleido, or it failed)."""


# ---------------------------------------------------------------------------------------------
# Browser discovery and the shared Kaleido session
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _find_browser(browser_path_env: str | None, path_env: str | None) -> str | None:
    # Keyed on the environment so a changed BROWSER_PATH / PATH is looked up afresh.
    del path_env
    try:
        from choreographer.browsers.chromium import Chromium
    except ImportError:
        return None
    try:
        found = Chromium.find_browser(skip_local=False)
    except Exception:  # noqa: BLE001 - a broken lookup means "no browser", nothing more
        return None
    if browser_path_env and found != browser_path_env:
        found = browser_path_env
    if found and os.path.isfile(found) and os.access(found, os.X_OK):
        return found
    return None


def browser_path() -> str | None:
    """The browser Kaleido would use (BROWSER_PATH first), or None. Cached per environment."""
    return _find_browser(os.environ.get("BROWSER_PATH"), os.environ.get("PATH"))


def export_unavailable_reason() -> str | None:
    """None when image export can work; else a sentence for the user."""
    if browser_path() is not None:
        return None
    where = os.environ.get("BROWSER_PATH")
    hint = f" (BROWSER_PATH={where!r} is not an executable)" if where else ""
    return (
        "Image export (PNG, SVG, PDF, GIF) needs Chromium, which is not installed on this "
        f"server{hint}. Install it (Debian: apt-get install chromium) or use the HTML, CSV "
        "and JSON downloads, which need no browser."
    )


def export_available() -> bool:
    """Whether PNG/SVG/PDF/GIF export can work: a cheap, cached check for a browser."""
    return export_unavailable_reason() is None


class _KaleidoSession:
    """One Kaleido browser on a private event-loop thread, reused for every image."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._kaleido: Any = None

    def _run(self, coro: Any, timeout: float) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def _open(self, path: str) -> None:
        import kaleido

        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self._loop.run_forever, name="viz-kaleido", daemon=True)
            self._thread.start()

        async def start() -> Any:
            # mathjax=False: no network fetch of MathJax (the app runs offline).
            k = kaleido.Kaleido(mathjax=False, path=path, timeout=RENDER_TIMEOUT_S)
            await k.open()
            return k

        self._kaleido = self._run(start(), RENDER_TIMEOUT_S)

    def _close_browser(self) -> None:
        if self._kaleido is not None and self._loop is not None:
            try:
                self._run(self._kaleido.close(), 20)
            except Exception:  # noqa: BLE001 - closing a dead browser may fail; forget it
                pass
        self._kaleido = None

    def render(self, fig: go.Figure | dict, opts: dict[str, Any]) -> bytes:
        reason = export_unavailable_reason()
        if reason is not None:
            raise ExportUnavailable(reason)
        path = browser_path()
        assert path is not None
        with self._lock:
            for attempt in (1, 2):  # a browser that died is restarted once
                try:
                    if self._kaleido is None:
                        self._open(path)
                    return self._run(self._kaleido.calc_fig(fig, opts=opts), RENDER_TIMEOUT_S + 5)
                except ExportUnavailable:
                    raise
                except Exception as exc:  # noqa: BLE001 - any browser failure
                    self._close_browser()
                    if attempt == 2:
                        raise ExportUnavailable(
                            f"Image export failed: the browser ({path}) did not render the "
                            f"figure ({type(exc).__name__}: {exc}). HTML, CSV and JSON "
                            "downloads still work."
                        ) from exc
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            self._close_browser()
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self._loop.stop)
                if self._thread is not None:
                    self._thread.join(timeout=10)
                self._loop = None
                self._thread = None


_SESSION = _KaleidoSession()
atexit.register(_SESSION.close)


def close_export_session() -> None:
    """Stop the shared Kaleido browser (it restarts on the next image)."""
    _SESSION.close()


# ---------------------------------------------------------------------------------------------
# Static images and HTML
# ---------------------------------------------------------------------------------------------


def for_export(fig: go.Figure) -> go.Figure:
    """The figure without its invisible click grid: nothing to click in a file, and in an SVG
    its transparent click-grid markers would bloat it."""
    if not any(getattr(t, "name", None) == CLICK_GRID_NAME for t in fig.data):
        return fig
    out = go.Figure(fig)
    out.data = [t for t in out.data if getattr(t, "name", None) != CLICK_GRID_NAME]
    return out


# Chromium prints Kaleido's PDF page (width x height px) with 0.1 in margins and shrinks the
# figure to the printable width only: a figure wider than tall loses a strip at the bottom
# (18·(w − h)/w px, the legend's lower half on a 900 x 420 loss chart). A blank strip this tall
# is added under the figure for the PDF, so the cut falls on nothing.
PDF_MARGIN_PX = 20


def _pdf_padding(width: int, height: int) -> int:
    return math.ceil(PDF_MARGIN_PX * max(width - height, 0) / width) if width > 0 else 0


def _padded_below(fig: go.Figure, height: int, pad: int) -> go.Figure:
    """`fig` drawn `pad` px taller with the extra rows blank at the bottom: the plot area and
    everything placed against the figure's (container's) bottom keep their place from the top."""
    out = go.Figure(fig)

    def moved(y: Any) -> float:
        return (float(y) * height + pad) / (height + pad)

    margin_b = out.layout.margin.b
    out.update_layout(height=height + pad, margin_b=(80 if margin_b is None else margin_b) + pad)
    legend = out.layout.legend
    if legend.yref == "container":
        out.update_layout(legend_y=moved(1.0 if legend.y is None else legend.y))
    for ann in out.layout.annotations:
        if ann.yref == "container" and ann.y is not None:
            ann.y = moved(ann.y)
    title = out.layout.title
    if title.yref == "container" and isinstance(title.y, int | float):
        out.update_layout(title_y=moved(title.y))
    return out


def _image(fig: go.Figure, fmt: str, width: int | None, height: int | None, scale: float) -> bytes:
    w = int(width or fig.layout.width or DEFAULT_WIDTH)
    h = int(height or fig.layout.height or DEFAULT_HEIGHT)
    out = for_export(fig)
    if fmt == "pdf" and (pad := _pdf_padding(w, h)):
        out, h = _padded_below(out, h, pad), h + pad
    return _SESSION.render(out, dict(format=fmt, width=w, height=h, scale=scale))


def to_png(fig: go.Figure, width: int | None = None, height: int | None = None, scale: float = 2.0) -> bytes:
    """PNG bytes. Width/height default to the figure's layout (else 900 x 600); scale 2 gives
    slide-sharp images."""
    return _image(fig, "png", width, height, scale)


def to_svg(fig: go.Figure, width: int | None = None, height: int | None = None, scale: float = 1.0) -> bytes:
    """SVG bytes (vector; contours are embedded as images by plotly.js)."""
    return _image(fig, "svg", width, height, scale)


def to_pdf(fig: go.Figure, width: int | None = None, height: int | None = None, scale: float = 1.0) -> bytes:
    """PDF bytes."""
    return _image(fig, "pdf", width, height, scale)


def to_html(fig: go.Figure, include_plotlyjs: bool | str = True) -> str:
    """A complete HTML page with the interactive figure (animations play too).

    By default plotly.js is inlined (about 4.7 MB) so the file works offline; pass
    include_plotlyjs="cdn" for a ~100 KB file that needs the internet to open.
    """
    return pio.to_html(
        for_export(fig),
        include_plotlyjs=include_plotlyjs,
        full_html=True,
        validate=False,
        config=dict(displaylogo=False, responsive=True),
        default_width="100%",
        default_height=f"{int(fig.layout.height or 600)}px",
    )


# ---------------------------------------------------------------------------------------------
# Animated GIF: the contour is rendered once by Kaleido, the paths drawn per frame by Pillow
# ---------------------------------------------------------------------------------------------

SUPERSAMPLE = 2  # draw at 2x and shrink: Pillow's lines are not antialiased


def _clip_segments(
    p: np.ndarray, q: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Liang-Barsky clipping of segments p->q to the box [lo, hi]; returns (p', q', kept).

    Diverged paths jump to 1e30 and beyond: coordinates must be clipped, not clamped, or the
    visible piece would point the wrong way (and Pillow refuses such numbers)."""
    d = q - p
    t0 = np.zeros(len(p))
    t1 = np.ones(len(p))
    kept = np.ones(len(p), dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        for axis in (0, 1):
            sides = ((-d[:, axis], p[:, axis] - lo[axis]), (d[:, axis], hi[axis] - p[:, axis]))
            for pk, qk in sides:
                parallel = pk == 0
                kept &= ~(parallel & (qk < 0))
                r = qk / pk
                t0 = np.where(~parallel & (pk < 0), np.maximum(t0, r), t0)
                t1 = np.where(~parallel & (pk > 0), np.minimum(t1, r), t1)
    kept &= t0 <= t1
    return p + t0[:, None] * d, p + t1[:, None] * d, kept


def _gif_layout(surface: Surface, width: int, n_legend: int) -> tuple[int, dict[str, int], int, int]:
    """Fixed margins and a plot area with the domain's aspect, so data -> pixel is known."""
    (x0, x1), (y0, y1) = surface.domain
    margin = dict(l=62, r=110, t=48, b=66 + 24 * math.ceil((n_legend + 2) / 2))
    plot_w = width - margin["l"] - margin["r"]
    ratio = min(max((y1 - y0) / (x1 - x0), 0.5), 1.5)
    plot_h = int(round(plot_w * ratio))
    return plot_h + margin["t"] + margin["b"], margin, plot_w, plot_h


def gif_background(
    surface: Surface,
    trajectories: Sequence[Trajectory],
    surface_params: Mapping[str, float] | None = None,
    colors: Sequence[str] | None = None,
    width: int = 640,
    title: str | None = None,
) -> tuple[go.Figure, dict[str, int], int, int]:
    """The GIF's static figure (contour, start, minima, legend) with margins fixed
    (autoexpand off) so the plot area is exactly [l, l + plot_w] x [t, t + plot_h] pixels."""
    colors_ = resolve_colors(len(trajectories), colors)
    height, margin, plot_w, plot_h = _gif_layout(surface, width, len(trajectories))
    fig = go.Figure()
    contour, _ = _contour_trace(surface, surface_params, 120, colorbar=dict(x=1.03, len=1.0))
    fig.add_trace(contour)
    for traj, color in zip(trajectories, colors_, strict=True):  # legend entries only
        fig.add_trace(
            go.Scatter(
                x=[None], y=[None], mode="lines", name=display_label(traj), line=dict(color=color, width=3)
            )
        )
    fig.add_trace(_start_trace(trajectories, surface))
    minima = _minima_trace(surface)
    if minima is not None:
        fig.add_trace(minima)
    (x0, x1), (y0, y1) = surface.domain
    fig.update_layout(
        template=TEMPLATE,
        width=width,
        height=height,
        showlegend=True,
        title=dict(text=title if title is not None else surface.label),
        margin=dict(margin, autoexpand=False, pad=0),
        legend=dict(
            orientation="h", yref="container", y=0, yanchor="bottom", x=0, xanchor="left", font=dict(size=12)
        ),
    )
    fig.update_xaxes(
        range=[x0, x1],
        autorange=False,
        automargin=False,
        title_text="x",
        showgrid=False,
        zeroline=False,
        title_standoff=14,
    )
    fig.update_yaxes(
        range=[y0, y1],
        autorange=False,
        automargin=False,
        title_text="y",
        showgrid=False,
        zeroline=False,
        title_standoff=10,
    )
    return fig, margin, plot_w, plot_h


def animation_gif(
    surface: Surface,
    trajectories: Sequence[Trajectory],
    surface_params: Mapping[str, float] | None = None,
    colors: Sequence[str] | None = None,
    frames: int = 40,
    width: int = 640,
    frame_ms: int = 90,
    title: str | None = None,
) -> bytes:
    """An animated GIF of every optimizer moving together on the contour map.

    The contour background is rendered once with Kaleido (fixed margins, so the data -> pixel
    mapping is exact); the paths are drawn per frame with Pillow at 2x and shrunk (antialiased).
    Raises ExportUnavailable without a browser.
    """
    from PIL import Image, ImageDraw, ImageFont

    if frames < 2:
        raise ValueError("a GIF needs at least 2 frames")
    colors_ = resolve_colors(len(trajectories), colors)
    fig, margin, plot_w, plot_h = gif_background(surface, trajectories, surface_params, colors_, width, title)
    ss = SUPERSAMPLE
    png = _SESSION.render(fig, dict(format="png", width=width, height=fig.layout.height, scale=ss))
    background = Image.open(io.BytesIO(png)).convert("RGBA")
    W, H = width * ss, int(fig.layout.height) * ss
    if background.size != (W, H):
        background = background.resize((W, H))

    (x0, x1), (y0, y1) = surface.domain
    sx, sy = plot_w * ss / (x1 - x0), plot_h * ss / (y1 - y0)
    box_lo = np.array([-10.0, -10.0])
    box_hi = np.array([plot_w * ss + 10.0, plot_h * ss + 10.0])

    def to_px(points: np.ndarray) -> np.ndarray:
        return np.column_stack([(points[:, 0] - x0) * sx, (y1 - points[:, 1]) * sy])

    # Per run: its finite path in overlay pixels, thinned to what 2x pixels can show.
    runs = []
    for traj in trajectories:
        n_ok = finite_length(traj)
        path = np.asarray(traj.path, dtype=np.float64)[:n_ok]
        keep = decimate_indices(path, 3000) if n_ok else np.zeros(0, dtype=int)
        runs.append((keep, to_px(path[keep]) if n_ok else np.zeros((0, 2)), n_ok))
    total = max((t.steps for t in trajectories), default=0)
    frame_steps = np.unique(np.round(np.linspace(0, total, frames)).astype(int))

    font = ImageFont.load_default(size=13 * ss)
    line_w, head_r = int(2.5 * ss), int(5.5 * ss)

    def draw_frame(step: int) -> PILImage.Image:
        overlay = Image.new("RGBA", (plot_w * ss, plot_h * ss), (0, 0, 0, 0))
        draw = ImageDraw.Draw(overlay)
        heads = []
        for (keep, px, n_ok), traj, color in zip(runs, trajectories, colors_, strict=True):
            upto = int(np.searchsorted(keep, min(step, max(n_ok - 1, 0)), side="right"))
            pts = px[:upto]
            if len(pts) >= 2:
                p, q, kept = _clip_segments(pts[:-1], pts[1:], box_lo, box_hi)
                # Unclipped neighbours form one polyline (round joints); the rest go alone.
                whole = (
                    kept & np.all(np.isclose(p, pts[:-1]), axis=1) & np.all(np.isclose(q, pts[1:]), axis=1)
                )
                start = None
                for i in range(len(whole) + 1):
                    if i < len(whole) and whole[i]:
                        start = i if start is None else start
                        continue
                    if start is not None:
                        draw.line(
                            [tuple(v) for v in pts[start : i + 1]], fill=color, width=line_w, joint="curve"
                        )
                        start = None
                    if i < len(whole) and kept[i]:
                        draw.line([tuple(p[i]), tuple(q[i])], fill=color, width=line_w)
            if len(pts):
                heads.append((pts[-1], traj.diverged_at is not None and step >= n_ok, color))
        # Heads after all lines: a later path must not hide an earlier optimizer's position.
        r = head_r
        for (hx, hy), diverged, color in heads:
            if not (box_lo[0] <= hx <= box_hi[0] and box_lo[1] <= hy <= box_hi[1]):
                continue
            if diverged:
                for dx in (-r, r):
                    draw.line([(hx - dx, hy - r), (hx + dx, hy + r)], fill="#ffffff", width=line_w + 2 * ss)
                    draw.line([(hx - dx, hy - r), (hx + dx, hy + r)], fill=color, width=line_w)
            else:
                draw.ellipse(
                    [hx - r, hy - r, hx + r, hy + r], fill=color, outline=OUTLINE_COLOR, width=max(ss, 1)
                )
        frame = background.copy()
        frame.alpha_composite(overlay, (margin["l"] * ss, margin["t"] * ss))
        label = f"step {step} / {total}"
        tw = ImageDraw.Draw(frame).textlength(label, font=font)
        ImageDraw.Draw(frame).text((W - margin["r"] * ss - tw, 16 * ss), label, fill="#222222", font=font)
        # Box-average the 2x drawing down: antialiased lines at a tenth of LANCZOS's cost.
        return frame.convert("RGB").reduce(ss)

    rgb_frames = [draw_frame(int(s)) for s in frame_steps]
    palette = _gif_palette(rgb_frames[-1], colors_)
    paletted = [f.quantize(palette=palette, dither=Image.Dither.NONE) for f in rgb_frames]
    durations = [frame_ms] * len(paletted)
    durations[-1] = max(frame_ms, 1500)  # hold the end so it can be read
    out = io.BytesIO()
    paletted[0].save(
        out, format="GIF", save_all=True, append_images=paletted[1:], duration=durations, loop=0, disposal=1
    )
    return out.getvalue()


def _gif_palette(last_frame: PILImage.Image, colors: Sequence[str]) -> PILImage.Image:
    """One palette for every frame (no flicker): the exact optimizer and marker colours, plus
    the background's own colours. A palette learnt from pixels alone gives thin paths too few
    entries and turns the blue path green."""
    from PIL import Image

    fixed = list(dict.fromkeys([*colors, OUTLINE_COLOR, "#ffffff", "#000000", MINIMUM_COLOR, "#222222"]))
    rgb = [tuple(int(c.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)) for c in fixed]
    learnt = last_frame.quantize(colors=256 - len(rgb), method=Image.Quantize.MEDIANCUT)
    flat = [v for c in rgb for v in c] + (learnt.getpalette() or [])[: 3 * (256 - len(rgb))]
    flat += [0] * (768 - len(flat))
    palette = Image.new("P", (1, 1))
    palette.putpalette(flat[:768])
    return palette


# ---------------------------------------------------------------------------------------------
# Writing files: never through a planted symlink, never half-written, never a wrong format
# ---------------------------------------------------------------------------------------------

# How each binary format starts (an SVG may open with an XML declaration or whitespace).
_SIGNATURES = {"png": (b"\x89PNG\r\n\x1a\n",), "pdf": (b"%PDF-",), "gif": (b"GIF87a", b"GIF89a")}


class UnsafeOutput(OSError):
    """An output path that must not be written: a symbolic link, or not a regular file."""


def looks_like(fmt: str, data: bytes) -> bool:
    """Whether `data` starts as a `fmt` file ("png", "pdf", "gif", "svg") must start. A
    renderer that fails on a huge canvas hands back a few bytes of nothing: no file of those."""
    if fmt == "svg":
        head = data[:512].lstrip()
        return head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head)
    return data.startswith(_SIGNATURES[fmt])


def check_output_path(path: str | os.PathLike[str]) -> None:
    """Raise UnsafeOutput if `path` exists as a symbolic link or as anything but a regular file
    (a link someone planted would make us overwrite its target)."""
    import stat

    try:
        st = os.lstat(path)
    except OSError:  # absent, or its folder is not there: writing it will say why it fails
        return
    if stat.S_ISLNK(st.st_mode):
        raise UnsafeOutput(
            f"{os.fspath(path)} is a symbolic link; refusing to write through it "
            "(remove it, or choose another output)"
        )
    if not stat.S_ISREG(st.st_mode):
        raise UnsafeOutput(f"{os.fspath(path)} exists and is not a regular file")


def write_file(path: str | os.PathLike[str], data: bytes | str) -> int:
    """Write `data` to `path` atomically without following symlinks; returns the byte count.

    The bytes go to a new temp file in the same directory (O_EXCL | O_NOFOLLOW), which then
    replaces `path` with os.replace: readers see the old file or the whole new one, and a link
    planted at `path` (refused up front; if planted later, replaced itself) is never followed.
    Raises UnsafeOutput for an existing link or non-regular file, OSError for other failures.
    """
    import secrets

    blob = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    target = os.fspath(path)
    check_output_path(target)
    folder, name = os.path.split(target)
    tmp = os.path.join(folder, f".{name[:80]}.{secrets.token_hex(6)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(tmp, flags, 0o666)  # the usual mode for a new file (umask applies)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(blob)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return len(blob)


__all__ = [
    "ExportUnavailable",
    "UnsafeOutput",
    "animation_gif",
    "browser_path",
    "check_output_path",
    "close_export_session",
    "export_available",
    "export_unavailable_reason",
    "for_export",
    "gif_background",
    "looks_like",
    "to_html",
    "to_pdf",
    "to_png",
    "to_svg",
    "write_file",
]
