"""Other libraries' quantisers, checked and timed with lpsgd's machinery.

Each peer is an adapter: the formats and rounding modes it claims (the preset and mode
names of lpsgd.formats and lpsgd.rounding) and a way to build
``fn(x: float64 ndarray) -> ndarray`` for one claim.  Peers are optional (the ``peers``
extra: ml_dtypes, pychop, gfloat; torchao needs torch and is never required); a peer
whose import fails is skipped with a note saying why, never with an exception.  numpy's
own casts are listed as a peer too, as the control every check should pass.

Element-format peers are in :data:`PEERS`; block quantisers of scaled formats (MX) in
:data:`SCALED_PEERS`, checked block by block by :func:`check_scaled_quantizer`, with every
mismatching block explained by the peer's choice that reproduces it exactly
(:data:`SCALED_KINDS`).  ml_dtypes' float8_e8m0fnu, the E8M0 scale type, is compared with
lpsgd's scale codes and rules (:func:`e8m0_code_mismatches`, :data:`E8M0_FACTS`).

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
from fractions import Fraction
from typing import Any

import numpy as np
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from lpsgd._validate import check_choice, check_int
from lpsgd.formats import Format, as_format
from lpsgd.rounding import ROUNDING_MODES, RoundingMode, rounding_mode
from lpsgd.scaled import ScaledFormat

__all__ = ["Peer", "PeerStatus", "PeerResult", "PeerReport", "PEERS", "peer_names",
           "peer_status", "claims", "quantizer", "check_peers", "PeerFact", "FactResult",
           "FACTS", "check_facts", "BenchRow", "BenchTable", "benchmark", "ScaledPeer",
           "SCALED_PEERS", "scaled_peer_names", "GFLOAT_ROUND", "SCALED_KINDS",
           "explain_block", "scaled_inputs", "ScaledCheck", "check_scaled_quantizer",
           "BlockFact", "E8M0Fact", "ScaledFactResult", "SCALED_FACTS", "E8M0_FACTS",
           "check_scaled_facts", "e8m0_rule_values", "e8m0_agreement",
           "e8m0_code_mismatches"]

Claim = tuple[str, str]  # (format preset name, rounding mode name)


@dataclasses.dataclass(frozen=True)
class Peer:
    """An outside quantiser library.

    Attributes:
        name: the peer's name in reports.
        module: the module imported to use it.
        claims: (module) -> the (format, mode) pairs it offers, as lpsgd names them.
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
#: pychop's rmode numbers (its Chop docstring) for lpsgd's rounding mode names.
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
    peer = PEERS[name] if name in PEERS else SCALED_PEERS[name]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for needed in getattr(peer, "requires", ()):
                importlib.import_module(needed)
            mod = importlib.import_module(peer.module)
    except ImportError as exc:
        hint = {"ml_dtypes": "peers", "pychop": "peers", "gfloat": "peers",
                "torchao": "torch-peers"}.get(name)
        return None, PeerStatus(name, False, None,
                                f"not installed ({exc}); pip install 'lpsgd[{hint}]'"
                                if hint else f"not installed ({exc})")
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
    """Import each peer (all by default, element and scaled-format peers) and say which are
    available, with versions."""
    return [_import(n)[1] for n in _names(names, scaled=True)]


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


def _names(names: Iterable[str] | None, *, scaled: bool = False) -> list[str]:
    """Peer names, checked; ``scaled`` admits the scaled-format peers too (and lists them
    by default)."""
    pool = [*PEERS, *SCALED_PEERS] if scaled else list(PEERS)
    if names is None:
        return pool
    if isinstance(names, str):
        names = [names]
    return [check_choice("peer", n, pool) for n in names]


# ----------------------------------------------------------------------------------------
# conformance


def check_peers(names: Iterable[str] | None = None, *, formats: Sequence[str] | None = None,
                modes: Sequence[str] | None = None, examples: int = 2_000, seed: int = 0,
                draws: int = 1_000, progress: Callable[[str], None] | None = None
                ) -> PeerReport:
    """Run :func:`lpsgd.testing.check_quantizer` on every claim of every installed peer,
    and :func:`check_scaled_quantizer` on every claim of every installed scaled-format peer.

    Args:
        names: peers to check (default all of :data:`PEERS` and :data:`SCALED_PEERS`).
        formats: keep only these format names, element or scaled presets (default: every
            claimed format).
        modes: keep only these mode names (default: every claimed mode).
        examples: random inputs added to the stress values per check (for scaled peers:
            ``examples // 32`` random blocks added to the format's hard cases).
        seed: seed of the inputs and of stochastic peers.
        draws: draws per input for stochastic modes.
        progress: called with a short line before each check (e.g. ``print``).

    Returns:
        A :class:`PeerReport`: one :class:`PeerResult` per (peer, format, mode) with the
        mismatch counts per kind and replayable examples; peers that could not be
        imported are listed in ``skipped`` with the reason; ``facts`` holds the pinned
        facts of the measured peers (:func:`check_facts`, :func:`check_scaled_facts`).
    """
    from lpsgd.testing import check_quantizer

    check_int("examples", examples, min_value=0)
    check_int("seed", seed, min_value=0)
    keep_f = None if formats is None else {_format_label(f) for f in formats}
    keep_m = None if modes is None else {rounding_mode(m).value for m in modes}
    results, measured, skipped = [], [], []
    for name in _names(names, scaled=True):
        mod, status = _import(name)
        if not status.available:
            skipped.append(status)
            continue
        measured.append(status)
        if name in SCALED_PEERS:
            results.extend(_check_scaled_claims(name, mod, status, keep_f, keep_m,
                                                blocks=max(1, examples // 32), seed=seed,
                                                progress=progress))
            continue
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
    names_measured = [s.name for s in measured]
    facts = [f for f in [*check_facts([n for n in names_measured if n in PEERS]),
                         *check_scaled_facts([n for n in names_measured
                                              if n in SCALED_PEERS or n == "ml_dtypes"])]
             if (keep_f is None or f.fact.format in keep_f)
             and (keep_m is None or f.fact.rounding in keep_m)]
    return PeerReport(results, measured, skipped, facts)


def _format_label(fmt: Any) -> str:
    """The name of an element or scaled format (a preset name, a Format or a ScaledFormat)."""
    from lpsgd.scaled import as_scaled_format, is_scaled

    if is_scaled(fmt):
        return as_scaled_format(fmt).label
    return as_format(fmt).label


# ----------------------------------------------------------------------------------------
# pinned facts, keyed by the peer's version


@dataclasses.dataclass(frozen=True)
class PeerFact:
    """One deterministic output of a peer, pinned for the versions where it was seen.

    Attributes:
        peer, format, rounding: the claim (a key of :data:`PEERS`, lpsgd's names).
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


def _verdict(in_range: bool, as_pinned: bool, exact: bool) -> str:
    """The status of a fact (see :class:`FactResult`) from whether the installed version is
    in its range, and whether the peer gives the pinned output or the exact result."""
    if in_range:
        return "holds" if as_pinned else "fails"
    if as_pinned:
        return "persists"
    return "fixed" if exact else "changed"


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
        verdict = _verdict(fact.applies_to(status.version), _same_float(actual, fact.got),
                           _same_float(actual, want))
        out.append(FactResult(fact, status.version, actual, want, verdict))
    return out


# ----------------------------------------------------------------------------------------
# scaled formats: other libraries' block quantisers (MX, NVFP4) and the E8M0 scale type
#
# Peers of scaled formats are compared block by block with lpsgd.reference.quantize on
# the hard cases of every preset (lpsgd.scaled_strategies.hard_cases) and on seeded random
# blocks.  A block where a peer differs is explained, when it can be, by a *model*: the
# exact rounding of the block under one alternative choice (a scale exponent from a
# float64 log2, a scale never below 2^-126, an integer element allowed to reach -2, ...).
# The first model that reproduces the peer's block bit for bit names the mismatch; a
# block no model reproduces is of kind "other" (unexplained).  The choices the peers make
# (as observed, and pinned in SCALED_FACTS keyed by the peer's version):
#
# * gfloat (its quantize_block with compute_scale_amax): the floor rule, but the exponent
#   of a_B comes from a float64 log2, which rounds up just below a power of two
#   (512 (1 - 2^-53) gets the scale of 512); inf in a block gives the largest scale 2^127
#   and the inf itself saturates to X_f 2^127 (lpsgd: the whole block is NaN); NaN in a
#   block of an element format without NaN (E3M2, E2M3, E2M1, int8) raises ValueError,
#   and with NaN (E4M3, E5M2) the block becomes NaN, as in lpsgd; an all-zero block
#   keeps its zeros and signs, as in lpsgd; mxint8 elements reach -2 (the two's
#   complement code -128), lpsgd clamps to the symmetric -127/64.  Its quantize_block
#   passes no random bits to the rounding: RoundMode.Stochastic then rounds every element
#   toward zero.  gfloat 0.5.2 has no rceil or ceil scale rule.
# * torchao 0.18.0 (to_mx then to_dtype, float32 inputs, floor and rceil; observed with
#   torch 2.13.0 on the CPU): the exponent comes from the bits (no log2 trap); a block of
#   scale 2^-127 (code 0) is divided by 2^-126 under floor (its float32 scale is clamped
#   to the smallest float32 normal) but multiplied back by 2^-127, so it comes back halved,
#   and under rceil code 0 takes the reciprocal 1, so the block flushes to zero; inf in a
#   block gives a finite scale (floor: 2^(128 - emax_f) from the exponent bits of inf;
#   rceil: code 254, 2^127), the inf element saturates and overflows back to inf in the
#   float32 product, the others are rounded with that scale; NaN makes the block NaN and
#   signed zeros are kept, as in lpsgd.  Its NVFP4 quantiser is not a peer here: it works
#   in float32 arithmetic throughout (per-tensor scale a_tensor / 2688, block scales never
#   below E4M3's smallest subnormal) and no exact model of it was established.
# * ml_dtypes float8_e8m0fnu: decodes code c to 2^(c - 127) and 255 to NaN, as lpsgd's
#   E8M0 scale codes; float64 goes to the nearest power of two in linear distance
#   (2^E up to 1.5 2^E exclusive, 2^(E+1) from the tie 1.5 2^E on), which is neither the
#   floor nor the ceil rule; 0, negative values and inf give NaN (lpsgd's zero block has
#   the scale 2^-127, code 0); values below 2^-127 give 2^-127; values from 1.5 2^127
#   give NaN (lpsgd clamps the exponent to 127).

@dataclasses.dataclass(frozen=True)
class ScaledPeer:
    """An outside block quantiser of scaled formats.

    Attributes:
        name: the peer's name in reports.
        module: the module imported to use it.
        claims: (module) -> the (scaled preset, mode) pairs it offers.
        make: (module, fmt, mode) -> fn, taking a float64 array whose last axis holds the
            blocks and returning the dequantised values (float64 or float32).
        expression: (fmt, mode) -> Python source of ``fn`` for one block, used in replay
            lines (with ``np`` and the peer's module imported).
        requires: modules the peer needs besides its own (torch for torchao).
        float32: the peer takes float32 inputs; the check rounds every input to float32
            first and gives the same values to lpsgd.reference.
        block_multiple: the peer needs the last axis to be a multiple of the block size;
            the adapter pads with zeros (which change no block maximum).
    """

    name: str
    module: str
    claims: Callable[[Any], list[Claim]]
    make: Callable[[Any, ScaledFormat, RoundingMode], Callable[[np.ndarray], Any]]
    expression: Callable[[ScaledFormat, RoundingMode], str]
    requires: tuple[str, ...] = ()
    float32: bool = False


_GFLOAT_FORMATS = ("mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e3m2", "mxfp6_e2m3", "mxfp4_e2m1",
                   "mxint8")
#: gfloat's RoundMode names for the modes its block functions are checked in.
GFLOAT_ROUND = {"nearest_even": "TiesToEven", "nearest_away": "TiesToAway",
                "toward_zero": "TowardZero", "up": "TowardPositive", "down": "TowardNegative"}
# Used by the pinned facts only: quantize_block passes no random bits to its rounding.
_GFLOAT_FACT_ROUND = {**GFLOAT_ROUND, "stochastic": "Stochastic"}


def _gfloat_claims(mod) -> list[Claim]:
    formats = importlib.import_module("gfloat.formats")
    return [(f, m) for f in _GFLOAT_FORMATS if hasattr(formats, f"format_info_{f}")
            for m in GFLOAT_ROUND]


def _gfloat_make(mod, fmt: ScaledFormat, mode: RoundingMode):
    info = getattr(importlib.import_module("gfloat.formats"), f"format_info_{fmt.label}")
    rnd = getattr(mod.RoundMode, _GFLOAT_FACT_ROUND[mode.value])
    k = info.k

    def fn(x):
        x = np.asarray(x, dtype=np.float64)
        rows = x.reshape(-1, x.shape[-1]) if x.ndim else x.reshape(1, 1)
        out = np.empty(rows.shape)
        with np.errstate(all="ignore"):
            for r in range(rows.shape[0]):
                for lo in range(0, rows.shape[1], k):
                    out[r, lo:lo + k] = mod.quantize_block(info, rows[r, lo:lo + k],
                                                           mod.compute_scale_amax, rnd)
        return out.reshape(x.shape)

    return fn


def _gfloat_expression(fmt: ScaledFormat, mode: RoundingMode) -> str:
    return (f"(lambda x: gfloat.quantize_block(gfloat.formats.format_info_{fmt.label}, x, "
            f"gfloat.compute_scale_amax, gfloat.RoundMode.{_GFLOAT_FACT_ROUND[mode.value]}))")


#: torchao's element dtypes (attributes of torch, or of torchao's mx constants) per preset.
_TORCHAO_ELEMENTS = {"mxfp8_e4m3": "float8_e4m3fn", "mxfp8_e5m2": "float8_e5m2",
                     "mxfp6_e3m2": "DTYPE_FP6_E3M2", "mxfp6_e2m3": "DTYPE_FP6_E2M3",
                     "mxfp4_e2m1": "float4_e2m1fn_x2"}


def _torchao_claims(mod) -> list[Claim]:
    return [(f + suffix, "nearest_even") for f in _TORCHAO_ELEMENTS for suffix in ("", "_rceil")]


def _torchao_make(mod, fmt: ScaledFormat, mode: RoundingMode):
    import torch

    mx = importlib.import_module("torchao.prototype.mx_formats.mx_tensor")
    consts = importlib.import_module("torchao.prototype.mx_formats.constants")
    config = importlib.import_module("torchao.prototype.mx_formats.config")
    base = fmt.label.removesuffix("_rceil")
    attr = _TORCHAO_ELEMENTS[base]
    elem = getattr(torch, attr) if hasattr(torch, attr) else getattr(consts, attr)
    scaling = config.ScaleCalculationMode.RCEIL if fmt.rule == "rceil" else \
        config.ScaleCalculationMode.FLOOR
    k = fmt.block_size

    def fn(x):
        x = np.asarray(x, dtype=np.float32)
        shape = x.shape
        rows = x.reshape(-1, shape[-1]) if x.ndim else x.reshape(1, 1)
        n = rows.shape[1]
        pad = -n % k
        if pad:
            rows = np.concatenate([rows, np.zeros((rows.shape[0], pad), np.float32)], axis=1)
        t = torch.from_numpy(np.ascontiguousarray(rows))
        scale, data = mx.to_mx(t, elem, k, scaling)
        back = mx.to_dtype(data, scale, elem, k, torch.float32)
        return back.numpy().astype(np.float64)[:, :n].reshape(shape)

    return fn


def _torchao_expression(fmt: ScaledFormat, mode: RoundingMode) -> str:
    return (f"(lambda x: lpsgd.peers.SCALED_PEERS['torchao'].make(torchao, "
            f"lpsgd.scaled.scaled_preset({fmt.label!r}), lpsgd.rounding.rounding_mode("
            f"{mode.value!r}))(x))")


SCALED_PEERS: dict[str, ScaledPeer] = {p.name: p for p in [
    ScaledPeer("gfloat", "gfloat", _gfloat_claims, _gfloat_make, _gfloat_expression),
    ScaledPeer("torchao", "torchao", _torchao_claims, _torchao_make, _torchao_expression,
               requires=("torch",), float32=True),
]}


def scaled_peer_names() -> list[str]:
    return list(SCALED_PEERS)


# -- models of the peers' choices ---------------------------------------------------------


def _exact_block(x: np.ndarray, fmt: ScaledFormat, mode: RoundingMode, e: int, *,
                 decode: int | None = None, low: Fraction | None = None,
                 signed_zeros: bool = True) -> np.ndarray:
    """The block ``x`` with the scale ``2^e`` imposed: each element ``x_i / 2^e`` rounded
    exactly on the element grid and clamped to ``[-X_f, X_f]`` (``[low, X_f]`` when
    ``low`` is given; infinities clamp too), times ``2^decode`` (default ``2^e``); NaN
    stays NaN; zeros are +0 unless ``signed_zeros``."""
    from lpsgd.reference.scaled import round_exact

    out = np.empty(x.shape)
    for i, v in enumerate(x.tolist()):
        if math.isnan(v):
            out[i] = math.nan
            continue
        neg = math.copysign(1.0, v) < 0
        cap = fmt.x_f if not neg or low is None else -low
        if math.isinf(v):
            g = cap
        else:
            g = min(round_exact(abs(Fraction(v)) / Fraction(2) ** e, neg, fmt.grid, mode,
                                None), cap)
        r = float(g * Fraction(2) ** (e if decode is None else decode))
        out[i] = -r if neg and (r != 0 or signed_zeros) else r
    return out


def _float_log2_exponent(a: float, fmt: ScaledFormat) -> int:
    with np.errstate(all="ignore"):
        return int(np.clip(np.floor(np.log2(np.float64(a))) - fmt.emax_f, -127, 127))


def _exact_exponent(a: float, fmt: ScaledFormat) -> int:
    from lpsgd.reference.scaled import e8m0_exponent

    return e8m0_exponent(abs(Fraction(a)), fmt)


#: The explained kinds of a scaled peer's mismatching block, each with the choice it
#: stands for, marked "choice" (a different, defensible semantics: the special values and
#: integer range are where implementations differ) or "defect" (the peer does not do what
#: its own rule or its own decoder says).  A mismatching block's kind is the smallest set
#: of these (joined by "+") under which lpsgd's exact rounding gives the peer's block bit
#: for bit.
SCALED_KINDS: dict[str, str] = {
    "raises": "choice: the peer refuses the block (NaN in an element format without NaN) "
              "where lpsgd returns a NaN block",
    "inf_block": "choice: inf in a block gives a finite scale (2^127, or 2^(128 - emax_f) "
                 "from the exponent bits of a float32 inf) and saturates to X_f times it "
                 "(inf again where a float32 product overflows); lpsgd: the block is NaN",
    "scale_float_log2": "defect: the floor rule's exponent taken from a float64 log2, which "
                        "rounds up just below a power of two (the rule asks for the exact "
                        "floor(log2 a_B))",
    "encode_2^-126_decode_2^-127": "defect: a block of scale 2^-127 is encoded with 2^-126 "
                                   "(the smallest float32 normal) but decoded with its "
                                   "code's 2^-127: every element comes back halved",
    "rceil_code0_unscaled": "defect: rceil, a block of scale code 0 (2^-127): the elements "
                            "are encoded unscaled (reciprocal 1 instead of 2^127) and "
                            "decoded with 2^-127, so they flush to zero",
    "int8_minus_two": "choice: integer elements reach -2 (the code -128); lpsgd clamps to "
                      "the symmetric -127/64",
    "no_negative_zero": "choice: a negative element that rounds to zero gives +0 (an "
                        "integer element has no -0); lpsgd keeps the sign",
    "no_random_bits": "defect: stochastic rounding given no random bits, every element "
                      "rounds toward zero (pinned facts only; peers are checked in "
                      "deterministic modes)",
    "other": "unexplained",
}


def _choices(x: np.ndarray, fmt: ScaledFormat) -> list[list[tuple[str, Any]]]:
    """The alternatives that can apply to block ``x``: per aspect, (kind, value) pairs,
    lpsgd's own choice first with the kind ""."""
    if fmt.scale != "e8m0" or np.isnan(x).any():
        return []
    if np.isinf(x).any():
        bits = min(128 - fmt.emax_f, 127)
        exps = [("inf_block", (127, 127))] + ([("inf_block", (bits, bits))] if bits != 127
                                               else [])
    else:
        a = _finite_max(x)
        e = _exact_exponent(a, fmt) if a > 0 else -127
        exps = [("", (e, e))]
        if a > 0 and fmt.rule == "floor" and _float_log2_exponent(a, fmt) != e:
            f = _float_log2_exponent(a, fmt)
            exps.append(("scale_float_log2", (f, f)))
        if e == -127:
            exps.append(("encode_2^-126_decode_2^-127", (-126, -127)))
            if fmt.rule == "rceil":
                exps.append(("rceil_code0_unscaled", (0, -127)))
    lows = [("", None)] + ([("int8_minus_two", Fraction(-2))] if fmt.kind == "int" else [])
    zeros = [("", True), ("no_negative_zero", False)]
    return [exps, lows, zeros]


def _finite_max(x: np.ndarray) -> float:
    return float(np.max(np.abs(x))) if x.size else 0.0


def _peer_same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Equal float64 bits, or both NaN (a peer's NaN sign and payload are not compared)."""
    from lpsgd.bitwise import same_values

    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return same_values(a, b) | (np.isnan(a) & np.isnan(b))


def explain_block(x: np.ndarray, got: np.ndarray | None, fmt: ScaledFormat | str,
                  rounding: str | RoundingMode = "nearest_even", *,
                  float32: bool = False) -> str:
    """The kind of a block where a peer's result ``got`` differs from lpsgd's.

    ``"raises"`` when ``got`` is None (the peer raised); else the smallest combination of
    the choices of :data:`SCALED_KINDS` (joined by "+", e.g.
    ``"scale_float_log2+int8_minus_two"``) under which lpsgd's exact rounding of the
    block reproduces ``got`` bit for bit; ``"other"`` when none does.  ``float32``: the
    peer computes in float32, so each candidate is rounded to float32 (an overflow gives
    inf) before the comparison.
    """
    import itertools

    from lpsgd.scaled import as_scaled_format

    if got is None:
        return "raises"
    fmt = as_scaled_format(fmt)
    mode = rounding_mode(rounding)
    x = np.asarray(x, dtype=np.float64).ravel()
    got = np.asarray(got, dtype=np.float64).ravel()
    aspects = _choices(x, fmt)
    if not aspects:
        return "other"
    combos = sorted(itertools.product(*aspects), key=lambda c: sum(bool(k) for k, _ in c))
    for (ek, (e, dec)), (lk, low), (zk, signed) in combos:
        kind = "+".join(k for k in (ek, lk, zk) if k)
        if not kind:
            continue  # lpsgd's own result, which differs from got
        model = _exact_block(x, fmt, mode, e, decode=dec, low=low, signed_zeros=signed)
        if float32:
            with np.errstate(over="ignore"):
                model = model.astype(np.float32).astype(np.float64)
        if _peer_same(model, got).all():
            return kind
    return "other"


# -- inputs -------------------------------------------------------------------------------


def scaled_inputs(fmt: ScaledFormat | str, blocks: int, seed: int = 0) -> np.ndarray:
    """Seeded random blocks for a scaled format, shape ``(blocks, block_size)``.

    Each block gets a random scale ``2^k`` (k uniform in [-40, 40]) and one element in
    the element's top binade ``[2^emax_f, 2^(emax_f + 1))`` (so the floor rule picks
    ``2^k``), and its other elements are, by equal shares: element grid values, midpoints
    of neighbouring grid values (ties), uniform values below ``2^(emax_f + 1)``, and
    log-uniform small magnitudes (down to 2^-20 below the top), all times ``2^k`` with
    random signs.
    """
    from lpsgd.scaled import as_scaled_format

    fmt = as_scaled_format(fmt)
    check_int("blocks", blocks, min_value=1)
    rng = np.random.default_rng(seed)
    n, top = fmt.block_size, fmt.emax_f
    g = fmt.grid
    # the positive grid of the element, up to X_f (float elements: every finite value)
    spacing = [float(Fraction(2) ** (max(e, g.e_min) - g.man_bits))
               for e in range(g.e_min - 1, top + 1)]
    grid = np.unique(np.concatenate([np.arange(0, 2.0 ** (e + 1), s) for e, s in
                                     zip(range(g.e_min - 1, top + 1), spacing)]))
    grid = grid[grid <= float(fmt.x_f)]
    mids = (grid[:-1] + grid[1:]) / 2
    kind = rng.integers(0, 4, size=(blocks, n))
    y = np.where(kind == 0, rng.choice(grid, size=(blocks, n)),
                 np.where(kind == 1, rng.choice(mids, size=(blocks, n)),
                          np.where(kind == 2, rng.random((blocks, n)) * 2.0 ** (top + 1),
                                   2.0 ** (top + 1 - 20 * rng.random((blocks, n))))))
    y[np.arange(blocks), rng.integers(0, n, size=blocks)] = (2.0 ** top
                                                             * (1 + rng.random(blocks)))
    y = np.where(rng.integers(0, 2, size=(blocks, n)) == 1, -y, y)
    return np.ldexp(y, rng.integers(-40, 41, size=(blocks, 1)))


def _hard_inputs(fmt: ScaledFormat) -> list[np.ndarray]:
    """The hard cases of ``fmt`` (lpsgd.scaled_strategies.hard_cases), block axis last."""
    from lpsgd.scaled_strategies import hard_cases

    out = []
    for f, x, axis in hard_cases():
        if f == fmt:
            out.append(np.moveaxis(np.atleast_1d(x), axis, -1))
    return out


@dataclasses.dataclass(frozen=True)
class ScaledCheck:
    """:func:`check_scaled_quantizer`'s result.

    Attributes:
        checked: elements compared; blocks: blocks compared.
        mismatches: elements that differ; kinds: elements that differ per kind of their
            block (keys of :data:`SCALED_KINDS`).
        examples: the first mismatching blocks of each kind (hex inputs, results).
    """

    format: str
    rounding: str
    checked: int
    blocks: int
    mismatches: int
    kinds: dict[str, int]
    examples: list[dict[str, Any]]


def check_scaled_quantizer(fn: Callable[[np.ndarray], Any], fmt: ScaledFormat | str,
                           rounding: str | RoundingMode = "nearest_even", *,
                           blocks: int = 64, seed: int = 0, float32: bool = False,
                           hard: bool = True, per_kind: int = 3) -> ScaledCheck:
    """Compare a block quantiser with :func:`lpsgd.reference.quantize`, block by block.

    Args:
        fn: takes a float64 array whose last axis holds the blocks (rows of blocks of
            ``fmt.block_size``, a shorter last block allowed) and returns the
            dequantised values.
        fmt: the scaled format ``fn`` claims; rounding: its (deterministic) element mode.
        blocks: seeded random blocks (:func:`scaled_inputs`) added to the hard cases.
        float32: round every input to float32 first (for peers that take float32).
        hard: include the hard cases of the format (lpsgd.scaled_strategies).
        per_kind: mismatching blocks kept as examples per kind.

    A call of ``fn`` that raises is repeated block by block, and the blocks that raise
    are of kind ``"raises"``.  Every other mismatching block gets its kind from
    :func:`explain_block`.
    """
    from lpsgd import reference
    from lpsgd.scaled import as_scaled_format

    fmt = as_scaled_format(fmt)
    mode = rounding_mode(rounding)
    if mode.is_stochastic:
        from lpsgd.errors import InvalidArgument

        raise InvalidArgument(f"Expected a deterministic rounding for a scaled peer check but "
                              f"got rounding={mode.value!r}")
    check_int("blocks", blocks, min_value=0)
    inputs = _hard_inputs(fmt) if hard else []
    if blocks:
        inputs.append(scaled_inputs(fmt, blocks, seed))
    k = fmt.block_size
    checked = nblocks = mismatches = 0
    kinds: dict[str, int] = {}
    examples: list[dict[str, Any]] = []
    for x in inputs:
        rows = np.asarray(x, dtype=np.float64).reshape(-1, x.shape[-1])
        if rows.size == 0:
            continue
        if float32:
            with np.errstate(over="ignore"):
                rows = rows.astype(np.float32).astype(np.float64)
        want = reference.quantize(rows, fmt, mode)
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got = np.asarray(fn(rows), dtype=np.float64).reshape(rows.shape)
        except Exception:
            got = None
        for r in range(rows.shape[0]):
            for lo in range(0, rows.shape[1], k):
                xb, wb = rows[r, lo:lo + k], want[r, lo:lo + k]
                nblocks += 1
                checked += xb.size
                if got is not None:
                    gb = got[r, lo:lo + k]
                else:
                    try:
                        with np.errstate(all="ignore"), warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            gb = np.asarray(fn(xb.reshape(1, -1)), dtype=np.float64).ravel()
                    except Exception:
                        gb = None
                bad = xb.size if gb is None else int((~_peer_same(gb, wb)).sum())
                if not bad:
                    continue
                kind = explain_block(xb, gb, fmt, mode, float32=float32)
                mismatches += bad
                kinds[kind] = kinds.get(kind, 0) + bad
                if sum(e["kind"] == kind for e in examples) < per_kind:
                    examples.append({"kind": kind, "x": [v.hex() for v in xb.tolist()],
                                     "got": None if gb is None else
                                     [float(v).hex() for v in gb.tolist()],
                                     "want": [float(v).hex() for v in wb.tolist()]})
    return ScaledCheck(fmt.label, mode.value, checked, nblocks, mismatches, kinds, examples)


def _check_scaled_claims(name: str, mod: Any, status: PeerStatus, keep_f, keep_m, *,
                         blocks: int, seed: int, progress) -> list[PeerResult]:
    from lpsgd.scaled import scaled_preset

    peer = SCALED_PEERS[name]
    out = []
    for f_name, m_name in peer.claims(mod):
        if (keep_f is not None and f_name not in keep_f) or (
                keep_m is not None and m_name not in keep_m):
            continue
        fmt, mode = scaled_preset(f_name), rounding_mode(m_name)
        if progress is not None:
            progress(f"checking {name} {f_name} {m_name}")
        start = time.perf_counter()
        res = check_scaled_quantizer(peer.make(mod, fmt, mode), fmt, mode, blocks=blocks,
                                     seed=seed, float32=peer.float32)
        seconds = time.perf_counter() - start
        expr = peer.expression(fmt, mode)
        rows = []
        for ex in res.examples:
            block = "np.array([" + ", ".join(f"float.fromhex({h!r})" for h in ex["x"]) + "])"
            rows.append({"kind": ex["kind"], "x": ex["x"], "got": ex["got"],
                         "want": ex["want"], "replay": f"{expr}({block})"})
        out.append(PeerResult(
            peer=name, version=status.version, format=f_name, rounding=m_name,
            method=(f"block by block against lpsgd.reference.quantize: the hard cases and "
                    f"{blocks} seeded random blocks" + (", inputs rounded to float32"
                                                        if peer.float32 else "")),
            checked=res.checked, mismatches=res.mismatches, kinds=dict(res.kinds),
            examples=rows, seconds=seconds))
    return out


# -- pinned facts of scaled peers ---------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BlockFact:
    """One block a scaled-format peer quantises, pinned for the versions where it was seen.

    Attributes:
        peer, format, rounding: a key of :data:`SCALED_PEERS`, a scaled preset, a mode.
        x: the block (float64 values).
        got: the peer's output for ``x`` in ``versions``, or the name of the exception
            it raises.
        kind: the key of :data:`SCALED_KINDS` that explains it (``"agrees"`` when the
            peer gives lpsgd's result: a special-value choice both make).
        versions, checked, note: as for :class:`PeerFact`.
    """

    peer: str
    format: str
    rounding: str
    x: tuple[float, ...]
    got: tuple[float, ...] | str
    kind: str
    versions: str
    checked: tuple[str, ...]
    note: str

    def applies_to(self, version: str | None) -> bool:
        return PeerFact.applies_to(self, version)  # type: ignore[arg-type]


@dataclasses.dataclass(frozen=True)
class E8M0Fact:
    """ml_dtypes' conversion of one float64 value to float8_e8m0fnu, pinned by version.

    ``agrees`` says which of lpsgd's power-of-two rules gives the same value when applied
    to ``x`` itself (``2^floor(log2 x)``: "floor"; ``2^ceil(log2 x)``: "ceil"; "both" for
    a power of two; "neither"), the exponent clamped to [-127, 127] as for block scales;
    it is checked against lpsgd's exact exponents, not taken on trust.
    """

    x: float
    got: float
    agrees: str
    versions: str
    checked: tuple[str, ...]
    note: str
    peer: str = "ml_dtypes"
    format: str = "float8_e8m0fnu"
    rounding: str = "nearest_even"

    def applies_to(self, version: str | None) -> bool:
        return PeerFact.applies_to(self, version)  # type: ignore[arg-type]


@dataclasses.dataclass(frozen=True)
class ScaledFactResult:
    """What the installed peer does with a :class:`BlockFact` or :class:`E8M0Fact`.

    ``status`` as for :class:`FactResult` (for E8M0 facts there is no exact result to be
    "fixed" to: outside its range a fact either persists or has changed).
    """

    fact: BlockFact | E8M0Fact
    version: str | None
    actual: tuple[float, ...] | str | float | None
    want: tuple[float, ...] | float | None
    status: str

    @property
    def ok(self) -> bool:
        return self.status != "fails"

    def as_dict(self) -> dict[str, Any]:
        f = self.fact
        return {"peer": f.peer, "format": f.format, "rounding": f.rounding,
                "x": _show(f.x), "pinned": _show(f.got), "versions": f.versions,
                "checked": list(f.checked), "note": f.note, "installed": self.version,
                "actual": _show(self.actual), "exact": _show(self.want),
                "status": self.status}

    def line(self) -> str:
        f = self.fact
        return (f"{self.status:<11} {f.peer} {self.version or '-'} (fact for {f.versions}): "
                f"{f.format} {f.rounding} x={_show(f.x)} -> {_show(self.actual)} "
                f"(pinned {_show(f.got)}, lpsgd {_show(self.want)}); {f.note}")


def _show(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if isinstance(v, float | int):
        return float(v).hex()
    return "[" + ", ".join(float(e).hex() for e in v) + "]"


def e8m0_rule_values(x: float) -> dict[str, float]:
    """lpsgd's power-of-two rules applied to a value ``x > 0`` itself: ``2^floor(log2 x)``
    and ``2^ceil(log2 x)``, from the exact exponent, clamped to ``2^[-127, 127]``."""
    from lpsgd.reference.scaled import floor_log2
    from lpsgd.scaled import E8M0_MAX, E8M0_MIN

    v = Fraction(x)
    lo = floor_log2(v)
    hi = lo if Fraction(2) ** lo == v else lo + 1
    clamp = lambda e: math.ldexp(1.0, min(max(e, E8M0_MIN), E8M0_MAX))  # noqa: E731
    return {"floor": clamp(lo), "ceil": clamp(hi)}


def e8m0_agreement(x: float, got: float) -> str:
    """Which of lpsgd's rules (:func:`e8m0_rule_values`) give ``got`` for ``x``."""
    if not (math.isfinite(x) and x > 0):
        return "neither"
    rules = e8m0_rule_values(x)
    hits = [r for r, v in rules.items() if _same_float(v, got)]
    return {0: "neither", 1: hits[0] if hits else "neither", 2: "both"}[len(hits)]


def e8m0_code_mismatches(decode: Callable[[np.ndarray], np.ndarray] | None = None
                         ) -> list[int]:
    """The E8M0 codes (0..255) whose value under ``decode`` (default: ml_dtypes'
    float8_e8m0fnu, the uint8 code viewed as it) differs from lpsgd's: the scale and
    scale code of :func:`lpsgd.reference.scaled.encode` for a block of each exponent
    (a zero block for code 0, a NaN block for 255)."""
    from lpsgd.reference.scaled import encode

    if decode is None:
        ml = importlib.import_module("ml_dtypes")

        def decode(codes):
            return codes.astype(np.uint8).view(ml.float8_e8m0fnu).astype(np.float64)

    blocks = [[0.0]] + [[math.ldexp(1.0, e + 2)] for e in range(-126, 128)] + [[math.nan]]
    enc = encode(np.array(blocks), "mxfp4_e2m1", axis=-1)  # emax_f = 2: a = 2^(e + 2)
    codes = enc.scale_codes.ravel()
    values = enc.scales.ravel()
    if list(codes) != list(range(256)):
        raise AssertionError(f"lpsgd's E8M0 codes are not 0..255: {list(codes)}")
    theirs = np.asarray(decode(codes), dtype=np.float64)
    return [int(c) for c in codes[~_peer_same(theirs, values)]]


def check_scaled_facts(names: Iterable[str] | None = None, *,
                       facts: Sequence[BlockFact | E8M0Fact] | None = None
                       ) -> list[ScaledFactResult]:
    """Run each pinned fact of a scaled peer (and ml_dtypes' E8M0 facts) on the installed
    peer and say what it does (statuses as :func:`check_facts`)."""
    from lpsgd import reference
    from lpsgd.scaled import scaled_preset

    facts = SCALED_FACTS + E8M0_FACTS if facts is None else facts
    keep = set(_names(names, scaled=True))
    out = []
    loaded: dict[str, tuple[Any, PeerStatus]] = {}
    for fact in facts:
        if fact.peer not in keep:
            continue
        if fact.peer not in loaded:
            loaded[fact.peer] = _import(fact.peer)
        mod, status = loaded[fact.peer]
        if isinstance(fact, E8M0Fact):
            want: Any = None
            if not status.available:
                out.append(ScaledFactResult(fact, None, None, want, "unavailable"))
                continue
            with np.errstate(all="ignore"):
                actual: Any = float(np.array([fact.x]).astype(mod.float8_e8m0fnu)
                                    .astype(np.float64)[0])
            same = _same_float(actual, fact.got)
        else:
            fmt = scaled_preset(fact.format)
            want = tuple(reference.quantize(np.array(fact.x), fmt, fact.rounding,
                                            **({"rng": np.random.default_rng(0)}
                                               if rounding_mode(fact.rounding).is_stochastic
                                               else {})).tolist())
            if not status.available:
                out.append(ScaledFactResult(fact, None, None, want, "unavailable"))
                continue
            fn = SCALED_PEERS[fact.peer].make(mod, fmt, rounding_mode(fact.rounding))
            try:
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    actual = tuple(np.asarray(fn(np.array([fact.x])), np.float64).ravel()
                                   .tolist())
            except Exception as exc:
                actual = type(exc).__name__
            same = _same_block(actual, fact.got)
        verdict = _verdict(fact.applies_to(status.version), same,
                           want is not None and _same_block(actual, want))
        out.append(ScaledFactResult(fact, status.version, actual, want, verdict))
    return out


def _same_block(a: Any, b: Any) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return len(a) == len(b) and bool(_peer_same(np.array(a), np.array(b)).all())


_GF = ("==0.5.2", ("0.5.2",))
_TAO = ("==0.18.0", ("0.18.0",))
_E8 = ("==0.7.0", ("0.7.0",))
_NAN = math.nan
_INF = math.inf

#: Pinned blocks of the scaled-format peers, each observed by running the peer at the
#: versions in ``checked``; lpsgd's result comes from lpsgd.reference.quantize when checked.
SCALED_FACTS: tuple[BlockFact, ...] = tuple(
    BlockFact(*row[:6], *row[6], row[7]) for row in [
        # float64 log2(512 (1 - 2^-53)) rounds to 9: the scale 2, 511.99.../2 rounds to
        # 256, and 512 comes back; lpsgd's floor scale is 1 and the element clamps to 448.
        ("gfloat", "mxfp8_e4m3", "nearest_even", (_H("0x1.fffffffffffffp+8"), 1.0, 3.0),
         (512.0, 1.0, 3.0), "scale_float_log2", _GF,
         "the floor exponent comes from a float64 log2, which rounds up just below 512"),
        # inf: log2(inf) = inf, clipped to 127; inf saturates to X_f 2^127, 1 / 2^127 -> 0.
        ("gfloat", "mxfp8_e4m3", "nearest_even", (_INF, 1.0), (448.0 * 2.0 ** 127, 0.0),
         "inf_block", _GF, "inf in a block: scale 2^127, inf saturates to 448 2^127"),
        ("gfloat", "mxfp8_e4m3", "nearest_even", (_NAN, 1.0), (_NAN, _NAN), "agrees", _GF,
         "NaN in a block of an element format with NaN: the whole block is NaN"),
        ("gfloat", "mxfp4_e2m1", "nearest_even", (_NAN, 1.0), "ValueError", "raises", _GF,
         "NaN in a block of an element format without NaN raises ValueError"),
        ("gfloat", "mxfp4_e2m1", "nearest_even", (0.0, -0.0, 0.0), (0.0, -0.0, 0.0),
         "agrees", _GF, "an all-zero block keeps its zeros and their signs"),
        # mxint8: -1.995 with the scale 1 is -127.68 / 64, which rounds to -128 / 64 = -2.
        ("gfloat", "mxint8", "nearest_even", (-1.995, 1.0), (-2.0, 1.0), "int8_minus_two",
         _GF, "int8 elements reach -2 (the code -128)"),
        ("gfloat", "mxint8", "nearest_even", (1.0, -0.0, -2.0 ** -9), (1.0, 0.0, 0.0),
         "no_negative_zero", _GF, "int8 elements have no -0: negative zeros come back +0"),
        # quantize_block passes no random bits to its rounding: Stochastic never rounds up.
        ("gfloat", "mxfp8_e4m3", "stochastic", (1.0, 1.0625 - 2 ** -10, 1.0625 - 2 ** -20),
         (1.0, 1.0, 1.0), "no_random_bits", _GF,
         "Stochastic in quantize_block gets no random bits and rounds toward zero"),
        # torchao (to_mx then to_dtype, float32, with torch 2.13.0 on the CPU): a block of
        # scale 2^-127 is divided by 2^-126 (its float32 scale is clamped to the smallest
        # normal) but multiplied back by 2^-127, the value of its code: halved.
        ("torchao", "mxfp8_e4m3", "nearest_even", (2.0 ** -119, 2.0 ** -121),
         (2.0 ** -120, 2.0 ** -122), "encode_2^-126_decode_2^-127", _TAO,
         "floor, scale code 0: encoded with 2^-126, decoded with 2^-127, every element halved"),
        # rceil: code 0 takes the reciprocal 1 instead of 2^127, so everything flushes to 0.
        ("torchao", "mxfp8_e4m3_rceil", "nearest_even", (2.0 ** -119, 2.0 ** -121),
         (0.0, 0.0), "rceil_code0_unscaled", _TAO,
         "rceil, scale code 0: elements are not scaled up and flush to zero"),
        ("torchao", "mxfp8_e4m3", "nearest_even", (_INF, 1.0), (_INF, 0.0), "inf_block",
         _TAO, "inf in a block: scale 2^120 from inf's exponent bits, inf stays inf, 1 -> 0"),
        ("torchao", "mxfp8_e4m3_rceil", "nearest_even", (_INF, 1.0), (_INF, 0.0),
         "inf_block", _TAO, "rceil, inf in a block: scale 2^127 (code 254), inf stays inf"),
        ("torchao", "mxfp4_e2m1", "nearest_even", (_NAN, 1.0), (_NAN, _NAN), "agrees", _TAO,
         "NaN in a block: the whole block is NaN (scale code 255), also for E2M1"),
        ("torchao", "mxfp4_e2m1", "nearest_even", (0.0, -0.0, 0.0), (0.0, -0.0, 0.0), "agrees",
         _TAO, "an all-zero block keeps its zeros and their signs"),
        ("torchao", "mxfp4_e2m1", "nearest_even", (1.0, -0.0, -2.0 ** -9), (1.0, -0.0, -0.0),
         "agrees", _TAO, "zeros keep their signs; a negative value that flushes gives -0"),
        ("torchao", "mxfp8_e4m3", "nearest_even", (_H("0x1.fffffep+8"), 1.0), (448.0, 1.0),
         "agrees", _TAO, "the exponent comes from the bits: float32 512 (1 - 2^-24) gets "
                         "the scale 1 and clamps to 448"),
    ])

#: ml_dtypes' float8_e8m0fnu on float64 values, against lpsgd's power-of-two rules.
E8M0_FACTS: tuple[E8M0Fact, ...] = tuple(E8M0Fact(*row[:3], *row[3], row[4]) for row in [
    (1.25, 1.0, "floor", _E8, "below the tie 1.5 2^E a value goes down to 2^E"),
    (_H("0x1.7ffffffffffffp+0"), 1.0, "floor", _E8,
     "just below the tie it still goes down (float64 is rounded once)"),
    (1.5, 2.0, "ceil", _E8, "the tie 1.5 2^E goes up to 2^(E+1)"),
    (1.75, 2.0, "ceil", _E8, "above the tie a value goes up"),
    (3.0, 4.0, "ceil", _E8, "every tie goes up (to an odd code too: 4 is code 129)"),
    (2.0, 2.0, "both", _E8, "a power of two is exact"),
    (0.0, _NAN, "neither", _E8, "zero has no E8M0 value: NaN (lpsgd's zero block: 2^-127)"),
    (-2.0, _NAN, "neither", _E8, "a negative value gives NaN"),
    (_INF, _NAN, "neither", _E8, "inf gives NaN"),
    (_NAN, _NAN, "neither", _E8, "NaN gives NaN (the code 255, as lpsgd's NaN blocks)"),
    (2.0 ** -129, 2.0 ** -127, "both", _E8, "below 2^-127 a value goes up to 2^-127"),
    (5e-324, 2.0 ** -127, "both", _E8, "even the smallest float64 gives 2^-127"),
    (1.5 * 2.0 ** 127, _NAN, "neither", _E8,
     "from 1.5 2^127 on it overflows to NaN (lpsgd clamps the exponent to 127)"),
])


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
    from lpsgd import fast
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
    from lpsgd import reference
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
