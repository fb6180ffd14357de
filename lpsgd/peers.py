"""Other libraries' quantisers, checked and timed with lpsgd's machinery.

Each peer is an adapter: the formats and rounding modes it claims (as FORMATS.md names)
and a way to build ``fn(x: float64 ndarray) -> ndarray`` for one claim.  Peers are
optional (the ``peers`` extra: ml_dtypes, pychop); a peer whose import fails is skipped
with a note saying why, never with an exception.  numpy's own casts are listed as a peer
too, as the control every check should pass.

:func:`check_peers` runs :func:`lpsgd.testing.check_quantizer` on every claim and returns
facts: counts of inputs checked and mismatched, per kind, and the simplest mismatching
inputs with a Python line that replays each.  :func:`benchmark` times the peers side by
side with ``lpsgd.fast.quantize`` and ``lpsgd.reference.quantize`` (the numbers behind
``lpsgd bench``).
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import math
import os
import statistics
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from lpsgd._validate import check_choice, check_int
from lpsgd.formats import Format, as_format
from lpsgd.rounding import ROUNDING_MODES, RoundingMode, rounding_mode

__all__ = ["Peer", "PeerStatus", "PeerResult", "PeerReport", "PEERS", "peer_names",
           "peer_status", "claims", "quantizer", "check_peers", "PeerFact", "FactResult",
           "FACTS", "check_facts", "BenchRow", "BenchTable", "benchmark"]

Claim = tuple[str, str]  # (format preset name, rounding mode name)


@dataclasses.dataclass(frozen=True)
class Peer:
    """An outside quantiser library.

    Attributes:
        name: the peer's name in reports.
        module: the module imported to use it.
        claims: (module) -> the (format, mode) pairs it offers, as FORMATS.md names.
        make: (module, fmt, mode, seed) -> fn, the quantiser for one claim.
        expression: (fmt, mode, seed) -> Python source of the same quantiser, used in
            replay lines (with ``np`` and the peer's module imported).
    """

    name: str
    module: str
    claims: Callable[[Any], list[Claim]]
    make: Callable[[Any, Format, RoundingMode, int], Callable[[np.ndarray], Any]]
    expression: Callable[[Format, RoundingMode, int], str]


@dataclasses.dataclass(frozen=True)
class PeerStatus:
    """Whether a peer could be imported, its version, and a note when it could not."""

    name: str
    available: bool
    version: str | None
    note: str


@dataclasses.dataclass(frozen=True)
class PeerResult:
    """check_quantizer's result for one peer, format and mode, with replay lines."""

    peer: str
    version: str | None
    format: str
    rounding: str
    method: str
    checked: int
    mismatches: int
    kinds: dict[str, int]
    examples: list[dict[str, str]]
    seconds: float
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class PeerReport:
    """All results of :func:`check_peers` plus the peers measured and skipped."""

    results: list[PeerResult]
    measured: list[PeerStatus]
    skipped: list[PeerStatus]
    facts: list[FactResult] = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"results": [r.as_dict() for r in self.results],
                "measured": [dataclasses.asdict(s) for s in self.measured],
                "skipped": [dataclasses.asdict(s) for s in self.skipped],
                "facts": [f.as_dict() for f in self.facts]}

    def table(self) -> str:
        """A plain-text table: peer, format, mode, checked, mismatches, kinds."""
        lines = [f"{'peer':<10} {'format':<14} {'rounding':<17} {'checked':>8} "
                 f"{'mismatches':>10}  kinds"]
        for r in self.results:
            kinds = ", ".join(f"{k} {n}" for k, n in r.kinds.items()) or "-"
            lines.append(f"{r.peer:<10} {r.format:<14} {r.rounding:<17} {r.checked:>8} "
                         f"{r.mismatches:>10}  {kinds}")
        for s in self.skipped:
            lines.append(f"skipped {s.name}: {s.note}")
        if self.facts:
            lines.append("")
            lines.append("pinned facts, keyed by the peer's version:")
            lines.extend(f.line() for f in self.facts)
        return "\n".join(lines)


# ----------------------------------------------------------------------------------------
# the adapters

_NUMPY_DTYPES = {"binary16": "float16", "binary32": "float32"}
_ML_DTYPES = ("bfloat16", "float8_e5m2", "float8_e4m3fn", "float8_e4m3", "float8_e3m4",
              "float6_e3m2fn", "float6_e2m3fn", "float4_e2m1fn")
#: pychop's rmode numbers (its Chop docstring) for the FORMATS.md mode names.
PYCHOP_RMODE = {"nearest_even": 1, "up": 2, "down": 3, "toward_zero": 4, "stochastic": 5,
                "stochastic_equal": 6, "nearest_zero": 7, "nearest_away": 8, "odd": 9}
#: pychop's Chop simulates IEEE-like formats (inf and NaN, optional subnormals).
_PYCHOP_FORMATS = ("binary16", "bfloat16", "tf32", "float8_e5m2", "float8_e4m3",
                   "float8_e3m4", "binary32")
_QTORCH_MODES = {"nearest_even": "nearest", "stochastic": "stochastic"}
_QTORCH_FORMATS = ("binary16", "bfloat16", "tf32", "float8_e5m2", "float8_e4m3",
                   "float8_e3m4")


def _numpy_claims(mod) -> list[Claim]:
    return [(f, "nearest_even") for f in _NUMPY_DTYPES]


def _numpy_make(mod, fmt, mode, seed):
    dtype = getattr(mod, _NUMPY_DTYPES[fmt.label])
    return lambda x: np.asarray(x).astype(dtype)


def _ml_dtypes_claims(mod) -> list[Claim]:
    return [(f, "nearest_even") for f in _ML_DTYPES if hasattr(mod, f)]


def _ml_dtypes_make(mod, fmt, mode, seed):
    dtype = getattr(mod, fmt.label)
    return lambda x: np.asarray(x).astype(dtype)


def _pychop_claims(mod) -> list[Claim]:
    return [(f, m) for f in _PYCHOP_FORMATS for m in PYCHOP_RMODE]


def _pychop_make(mod, fmt, mode, seed, chunk_size=None):
    # pychop picks its array backend from this variable; "auto" detects numpy arrays.
    os.environ.setdefault("chop_backend", "auto")
    kw = {} if chunk_size is None else {"chunk_size": chunk_size}
    return mod.Chop(exp_bits=fmt.exp_bits, sig_bits=fmt.man_bits, rmode=PYCHOP_RMODE[mode.value],
                    subnormal=fmt.subnormals, random_state=seed, **kw)


def _qtorch_claims(mod) -> list[Claim]:
    return [(f, m) for f in _QTORCH_FORMATS for m in _QTORCH_MODES]


def _qtorch_make(mod, fmt, mode, seed):
    import torch  # qtorch works on torch tensors (float32)

    quant = importlib.import_module("qtorch.quant")
    # qtorch's CPU kernel draws its stochastic rounding from its own generator, seeded
    # from the system when the extension loads: torch.manual_seed does not reach it, so
    # CPU runs cannot be replayed (its CUDA kernel uses torch's generator).  Seeding
    # torch here serves the CUDA path only.
    torch.manual_seed(seed)

    def fn(x):
        t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        out = quant.float_quantize(t, exp=fmt.exp_bits, man=fmt.man_bits,
                                   rounding=_QTORCH_MODES[mode.value])
        return out.numpy()

    return fn


PEERS: dict[str, Peer] = {p.name: p for p in [
    Peer("numpy", "numpy", _numpy_claims, _numpy_make,
         lambda f, m, s: f"(lambda x: x.astype(np.{_NUMPY_DTYPES[f.label]}))"),
    Peer("ml_dtypes", "ml_dtypes", _ml_dtypes_claims, _ml_dtypes_make,
         lambda f, m, s: f"(lambda x: x.astype(ml_dtypes.{f.label}))"),
    Peer("pychop", "pychop", _pychop_claims, _pychop_make,
         lambda f, m, s: (f"pychop.Chop(exp_bits={f.exp_bits}, sig_bits={f.man_bits}, "
                          f"rmode={PYCHOP_RMODE[m.value]}, subnormal={f.subnormals}, "
                          f"random_state={s})")),
    Peer("qtorch", "qtorch", _qtorch_claims, _qtorch_make,
         lambda f, m, s: (f"(lambda x: qtorch.quant.float_quantize(torch.from_numpy("
                          f"x.astype(np.float32)), exp={f.exp_bits}, man={f.man_bits}, "
                          f"rounding={_QTORCH_MODES[m.value]!r}).numpy())")),
]}


def peer_names() -> list[str]:
    return list(PEERS)


# ----------------------------------------------------------------------------------------
# status and claims


def _import(name: str) -> tuple[Any | None, PeerStatus]:
    peer = PEERS[name]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mod = importlib.import_module(peer.module)
    except ImportError as exc:
        return None, PeerStatus(name, False, None,
                                f"not installed ({exc}); pip install 'lpsgd[peers]'"
                                if name in ("ml_dtypes", "pychop") else
                                f"not installed ({exc})")
    except Exception as exc:  # a peer that is installed but fails on import
        return None, PeerStatus(name, False, None,
                                f"import failed: {type(exc).__name__}: {exc}")
    version = getattr(mod, "__version__", None)
    if version is None:  # qtorch has no __version__; its distribution has one
        try:
            version = importlib.metadata.version(peer.module)
        except importlib.metadata.PackageNotFoundError:
            pass
    return mod, PeerStatus(name, True, None if version is None else str(version), "")


def peer_status(names: Iterable[str] | None = None) -> list[PeerStatus]:
    """Import each peer (all by default) and say which are available, with versions."""
    return [_import(n)[1] for n in _names(names)]


def claims(name: str) -> list[Claim]:
    """The (format, mode) pairs peer ``name`` offers; empty when it is not installed."""
    mod, status = _import(check_choice("peer", name, PEERS))
    return PEERS[name].claims(mod) if status.available else []


def quantizer(name: str, fmt: Format | str, rounding: str | RoundingMode = "nearest_even", *,
              seed: int = 0) -> Callable[[np.ndarray], Any]:
    """Peer ``name``'s quantiser for one of its claims, as ``fn(float64 array)``.

    Raises:
        InvalidArgument: unknown peer, a claim the peer does not make, or a peer that is
            not installed.
    """
    name = check_choice("peer", name, PEERS)
    fmt = as_format(fmt)
    mode = rounding_mode(rounding)
    check_int("seed", seed, min_value=0)
    mod, status = _import(name)
    if not status.available:
        from lpsgd.errors import InvalidArgument

        raise InvalidArgument(f"peer={name!r} is not available: {status.note}")
    check_choice(f"{name} claim", f"{fmt.label}/{mode.value}",
                 [f"{f}/{m}" for f, m in PEERS[name].claims(mod)])
    return PEERS[name].make(mod, fmt, mode, seed)


def _names(names: Iterable[str] | None) -> list[str]:
    if names is None:
        return peer_names()
    if isinstance(names, str):
        names = [names]
    return [check_choice("peer", n, PEERS) for n in names]


# ----------------------------------------------------------------------------------------
# conformance


def check_peers(names: Iterable[str] | None = None, *, formats: Sequence[str] | None = None,
                modes: Sequence[str] | None = None, examples: int = 2_000, seed: int = 0,
                draws: int = 1_000, progress: Callable[[str], None] | None = None
                ) -> PeerReport:
    """Run :func:`lpsgd.testing.check_quantizer` on every claim of every installed peer.

    Args:
        names: peers to check (default all of :data:`PEERS`).
        formats: keep only these format names (default: every claimed format).
        modes: keep only these mode names (default: every claimed mode).
        examples: random inputs added to the stress values per check.
        seed: seed of the inputs and of stochastic peers.
        draws: draws per input for stochastic modes.
        progress: called with a short line before each check (e.g. ``print``).

    Returns:
        A :class:`PeerReport`: one :class:`PeerResult` per (peer, format, mode) with the
        mismatch counts per kind and replayable examples; peers that could not be
        imported are listed in ``skipped`` with the reason.
    """
    from lpsgd.testing import check_quantizer

    check_int("examples", examples, min_value=0)
    check_int("seed", seed, min_value=0)
    keep_f = None if formats is None else {as_format(f).label for f in formats}
    keep_m = None if modes is None else {rounding_mode(m).value for m in modes}
    results, measured, skipped = [], [], []
    for name in _names(names):
        mod, status = _import(name)
        if not status.available:
            skipped.append(status)
            continue
        measured.append(status)
        peer = PEERS[name]
        for f_name, m_name in peer.claims(mod):
            if (keep_f is not None and f_name not in keep_f) or (
                    keep_m is not None and m_name not in keep_m):
                continue
            fmt, mode = as_format(f_name), rounding_mode(m_name)
            if progress is not None:
                progress(f"checking {name} {f_name} {m_name}")
            fn = peer.make(mod, fmt, mode, seed)
            start = time.perf_counter()
            conf = check_quantizer(fn, fmt, mode, examples=examples, seed=seed, draws=draws)
            seconds = time.perf_counter() - start
            expr = peer.expression(fmt, mode, seed)
            examples_out = []
            for m in conf.details:
                row = {"kind": m.kind, "x": repr(m.x), "x_hex": m.x.hex(), "got": repr(m.got),
                       "want": repr(m.want), "got_bits": m.got_bits, "want_bits": m.want_bits,
                       "replay": f"{expr}({m.replay()})"}
                if m.p_hi is not None:
                    row.update(freq_hi=repr(m.freq_hi), p_hi=repr(m.p_hi), draws=str(m.draws))
                examples_out.append(row)
            results.append(PeerResult(
                peer=name, version=status.version, format=f_name, rounding=m_name,
                method=conf.method, checked=conf.checked, mismatches=conf.mismatches,
                kinds=dict(conf.kinds), examples=examples_out, seconds=seconds,
                notes=conf.notes))
    facts = [f for f in check_facts([s.name for s in measured])
             if (keep_f is None or f.fact.format in keep_f)
             and (keep_m is None or f.fact.rounding in keep_m)]
    return PeerReport(results, measured, skipped, facts)


# ----------------------------------------------------------------------------------------
# pinned facts, keyed by the peer's version


@dataclasses.dataclass(frozen=True)
class PeerFact:
    """One deterministic output of a peer, pinned for the versions where it was seen.

    Attributes:
        peer, format, rounding: the claim (a key of :data:`PEERS`, FORMATS.md names).
        x: the float64 input.
        got: the peer's output for ``x`` in ``versions``.
        versions: a version specifier (``">=0.5.4,<0.7"``): where the fact holds.  A range
            is never wider than the versions it was checked at allow: its ends are
            checked versions (or the first release that behaves otherwise).
        checked: the versions this fact was observed at, each by running the peer.
        note: what the fact shows, in one sentence.
    """

    peer: str
    format: str
    rounding: str
    x: float
    got: float
    versions: str
    checked: tuple[str, ...]
    note: str

    def applies_to(self, version: str | None) -> bool:
        """Whether ``version`` lies in :attr:`versions` (unknown versions never do)."""
        if version is None:
            return False
        try:
            return Version(version) in SpecifierSet(self.versions)
        except InvalidVersion:
            return False


@dataclasses.dataclass(frozen=True)
class FactResult:
    """What the installed peer does with a pinned fact's input.

    ``status`` is one of:

    * ``holds``: the installed version is in the fact's range and gives ``got``;
    * ``fails``: it is in the range and gives something else (the fact is wrong);
    * ``fixed``: outside the range, the peer now gives the exact result;
    * ``persists``: outside the range, the peer still gives ``got`` (the range can grow);
    * ``changed``: outside the range, neither ``got`` nor the exact result;
    * ``unavailable``: the peer is not installed.
    """

    fact: PeerFact
    version: str | None
    actual: float | None
    want: float
    status: str

    @property
    def ok(self) -> bool:
        """False only when a fact fails inside its own version range."""
        return self.status != "fails"

    def as_dict(self) -> dict[str, Any]:
        f = self.fact
        return {"peer": f.peer, "format": f.format, "rounding": f.rounding,
                "x": repr(f.x), "x_hex": f.x.hex(), "pinned": repr(f.got),
                "versions": f.versions, "checked": list(f.checked), "note": f.note,
                "installed": self.version,
                "actual": None if self.actual is None else repr(self.actual),
                "exact": repr(self.want), "status": self.status}

    def line(self) -> str:
        f = self.fact
        return (f"{self.status:<11} {f.peer} {self.version or '-'} (fact for {f.versions}): "
                f"{f.format} {f.rounding} x={f.x.hex()} -> "
                f"{'-' if self.actual is None else float(self.actual).hex()} "
                f"(pinned {f.got.hex()}, exact {self.want.hex()}); {f.note}")


_H = float.fromhex
_ML_OLD = (">=0.5.4,<0.7", ("0.5.4", "0.6.0"))
_ML_NEW = (">=0.7", ("0.7.0",))
_PYCHOP = ("==0.6.2", ("0.6.2",))
_QTORCH = ("==0.3.0", ("0.3.0",))

#: The pinned facts.  Each ``got`` is the peer's output, observed by running the peer at
#: the versions in ``checked``; the exact result it is compared with comes from
#: :func:`lpsgd.reference.quantize` when the fact is checked.
FACTS: tuple[PeerFact, ...] = tuple(PeerFact(*row[:5], *row[5], row[6]) for row in [
    # ml_dtypes before 0.7 converts float64 through float32 (double rounding): float32(x)
    # = 1 + 2^-8 is a tie of bfloat16, decided to even, while x lies above the tie.
    ("ml_dtypes", "bfloat16", "nearest_even", 1 + 2 ** -8 + 2 ** -40, 1.0, _ML_OLD,
     "float64 is rounded through float32 first: a spurious tie goes to even"),
    # Same at the top of float8_e4m3fn: float32(x) = 464 is the tie between X_max = 448
    # and the first value beyond it; x itself rounds beyond X_max, to NaN.
    ("ml_dtypes", "float8_e4m3fn", "nearest_even", _H("0x1.d000000000001p+8"), 448.0,
     _ML_OLD, "through float32 an overflow becomes the tie below it, and 448"),
    # From 0.7 ml_dtypes rounds float64 once: both inputs above give the exact result.
    ("ml_dtypes", "bfloat16", "nearest_even", 1 + 2 ** -8 + 2 ** -40, 1 + 2 ** -7, _ML_NEW,
     "float64 is rounded once, to the exact nearest value"),
    ("ml_dtypes", "float8_e4m3fn", "nearest_even", _H("0x1.d000000000001p+8"), math.nan,
     _ML_NEW, "float64 is rounded once: just above the last tie it overflows to NaN"),
    # -0.0 comes back as +0.0.
    ("pychop", "binary16", "nearest_even", -0.0, 0.0, _PYCHOP, "-0 comes back as +0"),
    # The overflow threshold (2 - 2^-11) 2^15 = 65520 rounds to 2^16, not inf.
    ("pychop", "binary16", "nearest_even", _H("0x1.ffep15"), _H("0x1p16"), _PYCHOP,
     "the overflow threshold 65520 rounds to 2^16, not inf"),
    # Inputs in [2^16, 2^17) give 0.0 instead of inf.
    ("pychop", "binary16", "nearest_even", _H("0x1p16"), 0.0, _PYCHOP,
     "inputs in [2^16, 2^17) give 0 instead of inf"),
    # Just below 1/4 the binade is taken from float64 log2 (which rounds to -2):
    # 0.249755859375 = 0x1.ff8p-3 instead of 0.2498779296875 = 0x1.ffcp-3.
    ("pychop", "binary16", "toward_zero", _H("0x1.fffffffffffffp-3"), _H("0x1.ff8p-3"),
     _PYCHOP, "the binade comes from a float64 log2, which rounds up just below 1/4"),
    # Round to odd changes the representable 1.0 into 1 + 2^-10.
    ("pychop", "binary16", "odd", 1.0, 1 + 2 ** -10, _PYCHOP,
     "round to odd changes the representable 1.0"),
    # Ties of negative numbers go toward zero under nearest_away: -(1 + 2^-9 + 2^-11).
    ("pychop", "binary16", "nearest_away", -(1 + 2 ** -9 + 2 ** -11), -(1 + 2 ** -9),
     _PYCHOP, "nearest_away sends ties of negative numbers toward zero"),
    # Magnitudes below 1e-38 are treated as zero: up gives 0.0, not the smallest
    # subnormal 2^-24.
    ("pychop", "binary16", "up", _H("0x1p-1022"), 0.0, _PYCHOP,
     "magnitudes below 1e-38 are taken as zero (up gives 0, not 2^-24)"),
    # qtorch (CPU), "nearest": ties go away from zero, 1 + 2^-11 -> 1 + 2^-10.
    ("qtorch", "binary16", "nearest_even", 1 + 2 ** -11, 1 + 2 ** -10, _QTORCH,
     "'nearest' sends ties away from zero"),
    # With fewer than 8 exponent bits there is no inf: the overflow threshold 65520
    # rounds to 2^16, larger values saturate one binade above X_max, at
    # (2 - 2^-10) 2^16 = 131008 for binary16, and so does inf itself.
    ("qtorch", "binary16", "nearest_even", _H("0x1.ffep15"), _H("0x1p16"), _QTORCH,
     "no inf below 8 exponent bits: 65520 rounds to 2^16"),
    ("qtorch", "binary16", "nearest_even", 1e6, 131008.0, _QTORCH,
     "large values saturate one binade above X_max, at 131008"),
    ("qtorch", "binary16", "nearest_even", math.inf, 131008.0, _QTORCH,
     "inf saturates at 131008"),
    # ... and NaN becomes that maximum too.
    ("qtorch", "float8_e4m3", "nearest_even", math.nan, 480.0, _QTORCH,
     "NaN becomes the largest value, 480"),
    # -0.0 comes back as +0.0.
    ("qtorch", "binary16", "nearest_even", -0.0, 0.0, _QTORCH, "-0 comes back as +0"),
])


def _same_float(a: float, b: float) -> bool:
    """Bitwise equality of two float64 values (any NaN equals any NaN)."""
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return np.float64(a).view(np.int64) == np.float64(b).view(np.int64)


def check_facts(names: Iterable[str] | None = None, *, facts: Sequence[PeerFact] = FACTS
                ) -> list[FactResult]:
    """Run each pinned fact's input through the installed peer and say what it does.

    A fact is asserted only for the versions in its range: outside it the result says
    whether the peer fixed the behaviour, kept it, or changed it otherwise, so a newer
    peer that fixed a bug is reported, never mistaken for a failure.
    """
    from lpsgd.reference import quantize as exact

    keep = set(_names(names))
    out = []
    loaded: dict[str, tuple[Any, PeerStatus]] = {}
    for fact in facts:
        if fact.peer not in keep:
            continue
        if fact.peer not in loaded:
            loaded[fact.peer] = _import(fact.peer)
        mod, status = loaded[fact.peer]
        want = float(exact(np.array([fact.x]), fact.format, fact.rounding)[0])
        if not status.available:
            out.append(FactResult(fact, None, None, want, "unavailable"))
            continue
        fn = PEERS[fact.peer].make(mod, as_format(fact.format), rounding_mode(fact.rounding), 0)
        with np.errstate(all="ignore"):
            actual = float(np.asarray(fn(np.array([fact.x])), dtype=np.float64)[0])
        if fact.applies_to(status.version):
            verdict = "holds" if _same_float(actual, fact.got) else "fails"
        elif _same_float(actual, fact.got):
            verdict = "persists"
        elif _same_float(actual, want):
            verdict = "fixed"
        else:
            verdict = "changed"
        out.append(FactResult(fact, status.version, actual, want, verdict))
    return out


# ----------------------------------------------------------------------------------------
# speed

#: The formats and modes timed by default (each with every implementation that offers it).
BENCH_FORMATS = ("binary16", "bfloat16", "float8_e5m2", "float8_e4m3fn", "float8_e4m3",
                 "binary32", "float4_e2m1fn")
BENCH_MODES = tuple(ROUNDING_MODES)


@dataclasses.dataclass(frozen=True)
class BenchRow:
    """Time of one implementation on one (format, mode): nanoseconds per element.

    ``ratio`` is this implementation's min time over lpsgd.fast's min time on the same
    (format, mode) in the same run (> 1: slower than lpsgd.fast).
    """

    format: str
    rounding: str
    implementation: str
    n: int
    rounds: int
    min_ns: float
    median_ns: float
    ratio: float | None


@dataclasses.dataclass(frozen=True)
class BenchTable:
    """:func:`benchmark`'s result: rows plus the peers measured and skipped."""

    rows: list[BenchRow]
    measured: list[PeerStatus]
    skipped: list[PeerStatus]
    size: int
    repeat: int
    reference_size: int
    method: str

    def as_dict(self) -> dict[str, Any]:
        return {"rows": [dataclasses.asdict(r) for r in self.rows],
                "measured": [dataclasses.asdict(s) for s in self.measured],
                "skipped": [dataclasses.asdict(s) for s in self.skipped],
                "size": self.size, "repeat": self.repeat,
                "reference_size": self.reference_size, "method": self.method,
                "summary": self.summary_lines()}

    def versus(self, peer: str) -> dict[tuple[str, str], float]:
        """For each (format, mode) that ``peer`` offers: its fastest configuration's min
        time divided by lpsgd.fast's min time (> 1: lpsgd.fast is faster)."""
        out: dict[tuple[str, str], float] = {}
        for r in self.rows:
            if r.implementation.split(" ")[0] == peer and r.ratio is not None:
                key = (r.format, r.rounding)
                out[key] = min(out.get(key, float("inf")), r.ratio)
        return out

    def summary_lines(self) -> list[str]:
        """One line per measured peer: on how many shared (format, mode) pairs lpsgd.fast
        has the smaller min time, and the smallest and largest ratio."""
        lines = []
        for s in self.measured:
            v = self.versus(s.name)
            if not v:
                continue
            faster = sum(r > 1 for r in v.values())
            lo_key = min(v, key=v.get)
            hi_key = max(v, key=v.get)
            lines.append(
                f"{s.name}: lpsgd.fast has the smaller min time on {faster}/{len(v)} shared "
                f"(format, mode) pairs; {s.name}/lpsgd.fast from {v[lo_key]:.2f} "
                f"({' '.join(lo_key)}) to {v[hi_key]:.2f} ({' '.join(hi_key)})")
        return lines

    def text(self) -> str:
        """The table as aligned plain text (what ``lpsgd bench`` prints)."""
        lines = [self.method, "",
                 f"{'format':<14} {'rounding':<17} {'implementation':<22} {'n':>8} "
                 f"{'min ns/elem':>12} {'median ns/elem':>15} {'x lpsgd.fast':>13}"]
        for r in self.rows:
            ratio = "-" if r.ratio is None else f"{r.ratio:.2f}"
            lines.append(f"{r.format:<14} {r.rounding:<17} {r.implementation:<22} {r.n:>8} "
                         f"{r.min_ns:>12.2f} {r.median_ns:>15.2f} {ratio:>13}")
        lines.append("")
        lines.extend(self.summary_lines())
        lines.append("measured: " + ", ".join(
            ["lpsgd.fast"] + (["lpsgd.reference"] if self.reference_size else [])
            + [f"{s.name} {s.version or ''}".strip() for s in self.measured]))
        for s in self.skipped:
            lines.append(f"skipped {s.name}: {s.note}")
        return "\n".join(lines)


def _implementations(fmt: Format, mode: RoundingMode, mods: dict[str, Any], seed: int,
                     size: int) -> list[tuple[str, Callable[[np.ndarray], Any]]]:
    """(label, fn) for every implementation that offers (fmt, mode), lpsgd.fast first."""
    fast = importlib.import_module("lpsgd.fast")
    stochastic = mode.is_stochastic
    rng = np.random.default_rng(seed)
    if stochastic:
        impls = [("lpsgd.fast", lambda x: fast.quantize(x, fmt, mode.value, rng=rng))]
    else:
        impls = [("lpsgd.fast", lambda x: fast.quantize(x, fmt, mode.value))]
    for name, mod in mods.items():
        peer = PEERS[name]
        if (fmt.label, mode.value) not in peer.claims(mod):
            continue
        label = {"numpy": f"numpy astype({_NUMPY_DTYPES.get(fmt.label, '')})",
                 "ml_dtypes": "ml_dtypes astype"}.get(name, name)
        impls.append((label, peer.make(mod, fmt, mode, seed)))
        if name == "pychop":
            # pychop hands arrays longer than chunk_size (800 by default) to dask; also
            # time it with one chunk, its plain-numpy path, so the faster of the two
            # configurations is on record.
            impls.append(("pychop (chunk_size=n)",
                          _pychop_make(mod, fmt, mode, seed, chunk_size=max(size, 1))))
    return impls


def benchmark(*, size: int = 100_000, repeat: int = 7, formats: Sequence[str] | None = None,
              modes: Sequence[str] | None = None, peers: Iterable[str] | None = None,
              reference_size: int = 200, seed: int = 0,
              progress: Callable[[str], None] | None = None) -> BenchTable:
    """Time lpsgd.fast, the installed peers and lpsgd.reference side by side.

    Method (the same for every implementation): for each (format, mode), one float64
    input of ``size`` values (log-uniform magnitudes over the format's range, both
    signs, seeded) is quantised by every implementation in turn, round-robin, for
    ``repeat`` rounds after one warm-up call each; each call is timed with
    ``time.perf_counter_ns``.  The table gives min and median ns per element, and the
    ratio of min times against lpsgd.fast from the same run.  lpsgd.reference is timed
    the same way on the first ``reference_size`` values (it is exact and slow), and
    reported per element.  A (format, mode) pair appears only with the implementations
    that offer it; numpy and ml_dtypes offer nearest_even only.

    Args:
        size: elements per call (>= 1).
        repeat: timed rounds (>= 1).
        formats: format names (default :data:`BENCH_FORMATS`).
        modes: mode names (default all nine).
        peers: peer names (default all).
        reference_size: elements per lpsgd.reference call (>= 1; 0 skips it).
        seed: seed of the input values and of stochastic modes.
        progress: called with a short line per (format, mode).
    """
    from lpsgd.testing import random_inputs

    check_int("size", size, min_value=1)
    check_int("repeat", repeat, min_value=1)
    check_int("reference_size", reference_size, min_value=0)
    check_int("seed", seed, min_value=0)
    fmts = [as_format(f) for f in (BENCH_FORMATS if formats is None else formats)]
    mds = [rounding_mode(m) for m in (BENCH_MODES if modes is None else modes)]
    reference = importlib.import_module("lpsgd.reference")
    mods, measured, skipped = {}, [], []
    for name in _names(peers):
        mod, status = _import(name)
        if status.available:
            mods[name] = mod
            measured.append(status)
        else:
            skipped.append(status)
    rows: list[BenchRow] = []
    for fmt in fmts:
        rng = np.random.default_rng(seed)
        # Log-uniform inputs only (no exact ties): typical data, not stress values.
        x = np.abs(random_inputs(fmt, 2 * size, rng)[:size])
        x = np.where(rng.integers(0, 2, size=size) == 1, -x, x)
        x = np.minimum(np.abs(x), float(fmt.x_max)) * np.sign(x)
        for mode in mds:
            if progress is not None:
                progress(f"timing {fmt.label} {mode.value}")
            impls = _implementations(fmt, mode, mods, seed, size)
            times: dict[str, list[int]] = {label: [] for label, _ in impls}
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for _, fn in impls:
                    fn(x)  # warm-up (imports, caches, lazy initialisation)
                for _ in range(repeat):
                    for label, fn in impls:
                        t0 = time.perf_counter_ns()
                        fn(x)
                        times[label].append(time.perf_counter_ns() - t0)
                if reference_size:
                    xr = x[:reference_size]
                    kw = {"rng": np.random.default_rng(seed)} if mode.is_stochastic else {}
                    ref_times = []
                    for _ in range(max(1, min(repeat, 3))):
                        t0 = time.perf_counter_ns()
                        reference.quantize(xr, fmt, mode.value, **kw)
                        ref_times.append(time.perf_counter_ns() - t0)
            base = min(times["lpsgd.fast"]) / size
            for label, ts in times.items():
                rows.append(BenchRow(fmt.label, mode.value, label, size, repeat,
                                     min(ts) / size, statistics.median(ts) / size,
                                     (min(ts) / size) / base))
            if reference_size:
                per = [t / xr.size for t in ref_times]
                rows.append(BenchRow(fmt.label, mode.value, "lpsgd.reference", int(xr.size),
                                     len(ref_times), min(per), statistics.median(per),
                                     min(per) / base))
    ref_note = (f"lpsgd.reference: {min(reference_size, size)} values" if reference_size
                else "lpsgd.reference not timed")
    method = (f"ns per element, min and median over {repeat} round-robin rounds of one call "
              f"on {size} float64 values ({ref_note}); "
              f"ratio = min time / lpsgd.fast min time in the same run")
    return BenchTable(rows, measured, skipped, size, repeat, reference_size, method)
