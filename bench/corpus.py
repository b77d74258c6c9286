"""Generated test and demo videos: distinct synthetic shots, real synthetic speech (espeak-ng).

Used by the tests, the benchmarks and the demo, so every one of them runs on a fresh machine
with nothing but ffmpeg and espeak-ng. Each video is a list of shots (an ffmpeg ``lavfi`` source
and a length) and spoken lines placed at given seconds, so a test knows exactly what is said
where, and which shot is on screen.

    python -m bench.corpus OUT_DIR          # the sample corpus of the demo
"""
from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


@dataclasses.dataclass
class Spec:
    """One video: ``shots`` = [(lavfi source, seconds)], ``speech`` = [(at second, text)]. A source
    may carry filters after a ``|`` (``slide`` draws text that way)."""

    name: str
    shots: list[tuple[str, float]]
    speech: list[tuple[float, str]] = dataclasses.field(default_factory=list)
    audio: bool = True
    size: tuple[int, int] = (320, 240)
    fps: int = 24
    voice: str = "en-us"       # espeak-ng voice and words per minute of every spoken line
    speed: int = 150

    @property
    def duration(self) -> float:
        return sum(d for _, d in self.shots)


def require_tools() -> None:
    missing = [tool for tool in ("ffmpeg", "espeak-ng") if shutil.which(tool) is None]
    if missing:
        raise RuntimeError(f"missing {', '.join(missing)}: apt-get install ffmpeg espeak-ng")


def speak(text: str, wav: Path, voice: str = "en-us", speed: int = 150) -> Path:
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text],
                   check=True, capture_output=True)
    return wav


def make_video(spec: Spec, out_dir: Path) -> Path:
    """Render ``spec`` to ``out_dir/spec.name`` (H.264 + AAC in MP4 unless the name says otherwise)."""
    require_tools()
    out = Path(out_dir) / spec.name
    out.parent.mkdir(parents=True, exist_ok=True)
    w, h = spec.size
    args = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y"]
    filters, labels = [], []
    for i, (shot, seconds) in enumerate(spec.shots):
        source, _, extra = shot.partition("|")
        sep = ":" if "=" in source else "="
        args += ["-t", f"{seconds}", "-f", "lavfi", "-i", f"{source}{sep}s={w}x{h}:r={spec.fps}"]
        filters.append(f"[{i}:v]{extra + ',' if extra else ''}format=yuv420p,setsar=1,setpts=PTS-STARTPTS[v{i}]")
        labels.append(f"[v{i}]")
    filters.append(f"{''.join(labels)}concat=n={len(labels)}:v=1:a=0[vout]")
    maps = ["-map", "[vout]"]
    with tempfile.TemporaryDirectory() as tmp:
        if spec.audio:
            base = len(spec.shots)
            args += ["-t", f"{spec.duration}", "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono"]
            mix = [f"[{base}:a]"]
            for j, (at, text) in enumerate(spec.speech):
                args += ["-i", str(speak(text, Path(tmp) / f"s{j}.wav", spec.voice, spec.speed))]
                delay = int(at * 1000)
                filters.append(f"[{base + 1 + j}:a]aresample=16000,adelay={delay}:all=1[a{j}]")
                mix.append(f"[a{j}]")
            filters.append(f"{''.join(mix)}amix=inputs={len(mix)}:duration=first:normalize=0[aout]")
            maps += ["-map", "[aout]", "-c:a", "aac", "-b:a", "64k"]
        args += ["-filter_complex", ";".join(filters), *maps, "-c:v", "libx264", "-preset", "ultrafast",
                 "-pix_fmt", "yuv420p", "-t", f"{spec.duration}", str(out)]
        subprocess.run(args, check=True, capture_output=True)
    return out


FONTS = "/usr/share/fonts/truetype/dejavu"  # Debian's fonts-dejavu


def slide(colour: str, title: str, lines: list[str] = (), ink: str = "white", title_size: int = 40) -> str:
    """A shot source: a plain slide with a bold title and smaller lines (fonts-dejavu)."""
    def text(value: str, size: int, y: int, bold: bool = False) -> str:
        font = f"{FONTS}/DejaVuSans{'-Bold' if bold else ''}.ttf"
        value = re.sub(r"[^\w .%-]", "", value)  # nothing the filtergraph would parse
        return f"drawtext=fontfile={font}:text='{value}':fontsize={size}:fontcolor={ink}:x=40:y={y}"

    drawn = [text(title, title_size, 40, bold=True)] + [text(line, 22, 140 + 50 * n) for n, line in enumerate(lines)]
    return f"color=c={colour}|{','.join(drawn)}"


def excerpt(source: Path, out: Path, start: float, seconds: float, crop: float = 0.8) -> Path:
    """A cropped, rescaled, re-encoded piece of ``source``: the near-duplicate a user might hold."""
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-ss", f"{start}", "-t", f"{seconds}",
         "-i", str(source), "-vf", f"crop=iw*{crop}:ih*{crop},scale=256:-2", "-c:v", "libx264",
         "-crf", "32", "-preset", "veryfast", "-c:a", "aac", "-b:a", "48k", str(out)],
        check=True, capture_output=True,
    )
    return out


def truncate(source: Path, out: Path, keep_bytes: int) -> Path:
    out.write_bytes(source.read_bytes()[:keep_bytes])
    return out


# The sample corpus: what each video shows and says is known, so searches can be checked.
SAMPLE = [
    Spec("weather.mp4", [("testsrc2", 5), ("smptebars", 5), ("mandelbrot", 4)],
         [(0.5, "Good evening, here is the weather report for tomorrow."),
          (10.3, "Heavy rain and strong winds are expected along the coast.")]),
    Spec("budget.mp4", [("rgbtestsrc", 6), ("cellauto", 6)],
         [(6.3, "The city budget shows that spending on schools increased by ten percent.")]),
    Spec("dog.mp4", [("color=c=olive", 4), ("life", 5)],
         [(4.5, "My dog loves to catch a frisbee in the park every morning.")]),
    Spec("silent_timelapse.mp4", [("mandelbrot", 6)], audio=False),
]


def make_sample_corpus(out_dir: Path, specs: list[Spec] = SAMPLE) -> list[Path]:
    out_dir = Path(out_dir)
    return [p if (p := out_dir / s.name).exists() else make_video(s, out_dir) for s in specs]


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "demo-data/videos")
    for path in make_sample_corpus(target):
        print(path)
