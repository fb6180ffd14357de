"""Block-scaled formats in the shrinkage model: the constants of a scale rule and two
theorems (deterministic and stochastic element rounding).

A scaled format (:class:`lpsgd.scaled.ScaledFormat`) cuts a vector into blocks of at most
``n_B`` elements; a block with largest magnitude ``a_B`` gets a scale ``s_B`` and its
elements become ``s_B Q_f(g_i / s_B)``, ``Q_f`` rounding to the element format (largest
binade exponent ``emax_f``, largest magnitude ``X_f``) and clamping to ``+-X_f``.  What the
bounds need from a power-of-two (E8M0) scale rule is

* ``kappa``: ``s_B <= kappa a_B`` whenever the scale is not clamped at ``2^-127``;
* ``Y``: the supremum of the scaled block maximum ``a_B / s_B``.

Derived from the rules (``E = floor(log2 a_B)``):

* ``floor``: ``s_B = 2^(E - emax_f)``, so ``a_B/s_B in [2^emax_f, 2^(emax_f+1))``:
  ``kappa = 2^-emax_f``, ``Y = 2^(emax_f+1)`` (not attained).  ``Y > X_f``: a block
  maximum can be clipped to ``X_f`` (E4M3: up to 512 -> 448; E2M1: up to 8 -> 6), so the
  ratio ``rho_f(y) = Q_f(y)/y`` falls to ``X_f / Y`` just below ``Y``.
* ``ceil``: ``s_B = 2^(ceil(log2 a_B) - emax_f)``: ``a_B/s_B in (2^(emax_f-1), 2^emax_f]``,
  ``kappa = 2^(1-emax_f)``, ``Y = 2^emax_f <= X_f`` (attained; nothing is clipped).
* ``rceil``: ``s_B = 2^ceil(log2(a_B/X_f))``: ``a_B/s_B in (X_f/2, X_f]``,
  ``kappa = 2/X_f``, ``Y = X_f`` (attained; nothing is clipped).

NVFP4 (an E4M3 block scale rounded to nearest, times a per-tensor scale) is not covered:
its constants are not derived here and the functions refuse it.
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import mpmath

from lpsgd.errors import AssumptionError, InvalidArgument
from lpsgd.rounding import RoundingMode, rounding_mode
from lpsgd.scaled import E8M0_MIN, ScaledFormat, as_scaled_format
from lpsgd.theory._core import PAPER, Bound, Checker, affine_power, num, to_fraction, to_mpf

__all__ = ["ScaledConstants", "scaled_constants", "theorem8", "theorem9"]

Real = float | int | Fraction | mpmath.mpf

#: The smallest E8M0 scale squared, 4^-127: the weight of the lower scale clamp.
_SCALE_MIN_SQ = Fraction(1, 4 ** -E8M0_MIN)


@dataclasses.dataclass(frozen=True)
class ScaledConstants:
    """The constants of a power-of-two scaled format under a deterministic element mode.

    Attributes:
        kappa: ``s_B <= kappa a_B`` for every block whose scale is not clamped.
        Y: the supremum of ``a_B / s_B``; ``Y_attained`` says whether it is a maximum.
        clip: ``inf X_f / y`` over the scaled magnitudes ``X_f < y < Y`` that are clipped
            (``X_f / Y`` under floor), 1 when nothing is clipped.
        q_hi: an upper bound of ``sup rho_f(y)`` over ``0 < y < Y``: the element's
            supremum over its whole range (exact for floor and rceil float elements);
            ``math.inf`` when the mode enlarges without bound.

    For an integer element the ratio is taken on its rounding grid (which extends past
    ``X_f``), a lower bound for ``q_lo`` and an upper bound for ``q_hi``.
    """

    fmt: ScaledFormat
    rounding: str
    kappa: Fraction
    Y: Fraction
    Y_attained: bool
    clip: Fraction
    q_hi: Fraction | float
    _profile: object = dataclasses.field(repr=False, compare=False, default=None)

    def element_q_lo(self, t: Real) -> Fraction:
        """``inf rho_f(y)`` over ``t <= y <= X_f``: the element's rounding alone, no
        clipping (for ``t > X_f``: 1)."""
        tq = to_fraction(t)
        if tq is None or tq <= 0:
            raise InvalidArgument(f"Expected t > 0 but got t={t!r}")
        return self._profile.q_lo(tq) if tq <= self.fmt.x_f else Fraction(1)

    def q_lo(self, t: Real) -> Fraction:
        """``inf rho_f(y)`` over ``t <= y < Y`` (``<= Y`` when attained), clamping included.

        Exact for floor and rceil.  For ceil (``Y = 2^emax_f < X_f``) it is the infimum
        over ``[t, X_f]``: equal to the one over ``[t, Y]`` for ``t <= 2^(emax_f-1)`` (rho
        repeats from binade to binade among normal numbers), a lower bound above that,
        which keeps Theorem 8 valid.  0 when ``t`` is below every surviving magnitude.
        """
        tq = to_fraction(t)
        if tq is None or tq <= 0:
            raise InvalidArgument(f"Expected t > 0 but got t={t!r}")
        x_f = self.fmt.x_f
        if tq > self.Y or (tq == self.Y and not self.Y_attained):
            raise InvalidArgument(f"Expected t <= Y={num(self.Y)} (the largest scaled "
                                  f"magnitude) but got t={t!r}")
        if tq > x_f:  # only clipped magnitudes remain (floor)
            return self.clip
        return min(self._profile.q_lo(tq), self.clip)


def _mode(rounding: str | RoundingMode) -> RoundingMode:
    return rounding_mode(rounding)


def _require_mx(fmt: ScaledFormat, who: str) -> None:
    if fmt.scale != "e8m0":
        raise AssumptionError(
            f"{who}: fmt={fmt.label} has an {fmt.scale} block scale (rule {fmt.rule!r}); "
            f"kappa, Y and the constants of {who} are not derived for it (only power-of-two "
            f"e8m0 scales with rules floor, ceil, rceil)")


def _kappa_y(fmt: ScaledFormat) -> tuple[Fraction, Fraction, bool]:
    e = fmt.emax_f
    if fmt.rule == "floor":
        return Fraction(2) ** -e, Fraction(2) ** (e + 1), False
    if fmt.rule == "ceil":
        return Fraction(2) ** (1 - e), Fraction(2) ** e, True
    return 2 / fmt.x_f, fmt.x_f, True  # rceil


def scaled_constants(fmt: ScaledFormat | str, rounding: str | RoundingMode) -> ScaledConstants:
    """kappa, Y, the clipping factor and q_hi of an MX (e8m0) scaled format, exactly.

    ``q_lo(t)`` of the result is ``inf rho_f(y)`` over scaled magnitudes ``t <= y < Y``
    with ``rho_f(y) = Q_f(y)/y`` after clamping to ``X_f``; under floor it is at most
    ``X_f / 2^(emax_f+1)`` (E4M3 and E5M2: 0.875, E2M1: 0.75, int8: 127/128).

    Args:
        fmt: a ScaledFormat or scaled preset name with an e8m0 scale.
        rounding: a deterministic rounding mode name.

    Raises:
        InvalidArgument: malformed argument or a stochastic mode.
        AssumptionError: an e4m3 (NVFP4) scale, whose constants are not derived.
    """
    fmt_ = as_scaled_format(fmt)
    mode = _mode(rounding)
    if mode.is_stochastic:
        raise InvalidArgument(
            f"Expected a deterministic rounding mode but got rounding={mode.value!r}; "
            f"stochastic element rounding is described by theorem9's constants")
    _require_mx(fmt_, "scaled_constants")
    from lpsgd import shrinkage  # imported late, as in formats_bridge

    prof = shrinkage.profile(fmt_.grid, mode.value)
    kappa, Y, attained = _kappa_y(fmt_)
    clip = fmt_.x_f / Y if Y > fmt_.x_f else Fraction(1)
    q_hi = prof.q_hi
    if isinstance(q_hi, float) and math.isfinite(q_hi):
        q_hi = Fraction(q_hi)
    return ScaledConstants(fmt_, mode.value, kappa, Y, attained, clip, q_hi, prof)


def theorem8(*, L: Real, c: Real, d: int, mu: Real, t: Real, fmt: ScaledFormat | str,
             rounding: str | RoundingMode, gap: Real, k: int) -> Bound:
    """Theorem 8: gradient descent with deterministic block-scaled rounding of gradients.

    Problem: F on R^d, L-smooth (A1) and c-strongly convex (A3).

    Method: ``w_{k+1} = w_k - mu Q(grad F(w_k))``, Q the block quantiser of ``fmt`` (an
    e8m0 scaled format) with a deterministic element mode: ``Q(g) = D g``,
    ``D = diag(rho_i)``, ``rho_i >= 0``.

    Claim: with ``t`` a threshold on scaled magnitudes, ``q_lo(t)``, ``q_hi`` and
    ``kappa`` of :func:`scaled_constants`, ``loss(t) = n_B t^2 kappa^2 < 1``,
    ``q_eff = q_lo(t) (1 - loss(t))``, ``r = 1 - mu c q_eff`` and
    ``F_t = d t^2 4^-127 / (2 c (1 - loss(t)))``, for every ``k >= 1``
    ``F(w_k) - F* <= F_t + r^(k-1) (F(w_1) - F* - F_t)``.

    Constants: a block B of at most ``n_B`` elements with largest magnitude ``a_B`` gets
    the power-of-two scale ``s_B``; ``kappa`` bounds ``s_B <= kappa a_B`` (unclamped
    scales) and ``Y`` is the supremum of ``a_B / s_B``: rule floor ``kappa = 2^-emax_f``,
    ``Y = 2^(emax_f+1)`` (above ``X_f``, so block maxima are clipped: ``q_lo`` is capped at
    ``X_f / Y``, 0.875 for E4M3 and E5M2, 0.75 for E2M1); ceil ``kappa = 2^(1-emax_f)``,
    ``Y = 2^emax_f``; rceil ``kappa = 2 / X_f``, ``Y = X_f``.  ``q_lo(t)`` and ``q_hi`` are
    the infimum and supremum of ``rho_f(y) = Q_f(y)/y`` over scaled magnitudes
    ``t <= y < Y`` and ``0 < y < Y`` (exact, from the element format's profile).

    Why: ``||Q(g)||^2 <= q_hi <g, Q(g)>`` so the descent lemma gives
    ``F(w+) <= F(w) - (mu/2) <g, Q(g)>``; in a block, the elements with
    ``|g_i| < t s_B`` carry at most ``n_B t^2 (kappa^2 a_B^2 + 4^-127)`` of
    ``||g_B||^2`` (the 4^-127 accounts for the scale clamped at 2^-127) and the others
    keep ``rho_i >= q_lo(t)``; strong convexity then closes the recursion.  Scaling turns
    Theorem 6's floor ``d t^2/(2c)`` into one 4^-127 smaller, at the price of the rate
    factor ``1 - loss(t)`` and, under floor, the clipping cap on ``q_lo``.

    Assumptions (checked): ``L > 0``; ``0 < c <= L``; ``d >= 1``; fmt an e8m0 scaled
    format; a deterministic mode; ``0 < t <= Y``; ``loss(t) < 1``; ``q_lo(t) > 0``;
    ``q_hi`` finite; ``0 < mu <= 1/(L q_hi)``; ``gap >= 0``; ``k >= 1``.  Not checkable:
    no block maximum above ``2^127 Y``.

    Provenance: derived here for block-scaled (MX) formats; not a result of arXiv
    2508.07142.  The derivation was checked by hand and is checked by the suite only.

    Returns:
        Bound with terms ``floor`` (F_t), ``rate``, ``q_lo``, ``q_hi``, ``q_eff``,
        ``loss``, ``kappa`` and ``transient``.
    """
    ck = Checker("theorem8")
    L_, c_ = ck.real("L", L), ck.real("c", c)
    d_ = ck.integer("d", d)
    mu_, t_ = ck.real("mu", mu), ck.real("t", t)
    fmt_ = as_scaled_format(fmt)
    mode = _mode(rounding)
    gap_ = ck.real("gap", gap)
    k_ = ck.integer("k", k)
    ck.smoothness(L_)
    ck.strong_convexity(c_, L_)
    ck.at_least_one("d", d_, "dimension")
    ck.require(not mode.is_stochastic, f"deterministic element rounding {mode.value!r}",
               f"rounding={mode.value!r} is stochastic: Theorem 8 assumes a deterministic "
               f"element rounding (see theorem9)")
    _require_mx(fmt_, "theorem8")
    consts = scaled_constants(fmt_, mode)
    st = ck.shown["t"]
    ck.positive("t", t_, "threshold")
    ck.require(t_ < consts.Y or (t_ == consts.Y and consts.Y_attained),
               f"threshold t={st} <= Y={num(consts.Y)}",
               f"threshold t={st} exceeds the largest scaled magnitude Y={num(consts.Y)}")
    n_b = fmt_.block_size
    loss = n_b * t_ * t_ * consts.kappa ** 2
    ck.require(loss < 1, f"loss(t)=n_B t^2 kappa^2={num(loss)} < 1",
               f"loss(t)=n_B t^2 kappa^2={num(loss)} must be < 1 (n_B={n_b}, t={st}, "
               f"kappa={num(consts.kappa)})")
    q_lo = consts.q_lo(t_)
    q_hi = consts.q_hi
    ck.require(q_lo > 0, f"q_lo(t)={num(q_lo)} > 0",
               f"q_lo(t)=0 for t={st}: t is below every surviving scaled magnitude")
    ck.require(not (isinstance(q_hi, float) and math.isinf(q_hi)), "q_hi finite",
               "q_hi is infinite: no stepsize mu <= 1/(L*q_hi) is admissible")
    ck.stepsize("mu", mu_, 1 / (L_ * q_hi), "1/(L*q_hi)",
                f"L={ck.shown['L']}, q_hi={num(q_hi)}")
    ck.gap(gap_)
    ck.at_least_one("k", k_, "iteration")
    q_eff = q_lo * (1 - loss)
    floor = d_ * t_ * t_ * _SCALE_MIN_SQ / (2 * c_ * (1 - loss))
    r = 1 - mu_ * c_ * q_eff
    exact, value, p = affine_power(floor, r, k_ - 1, gap_ - floor, ck.prec)
    transient = p * (gap_ - floor) if exact is not None else value - to_mpf(floor, ck.prec)
    return ck.bound(exact=exact, value=value,
                    reference=f"Theorem 8 (lpsgd.theory.theorem8, derived here); {PAPER}",
                    terms={"floor": floor, "rate": r, "q_lo": q_lo, "q_hi": q_hi,
                           "q_eff": q_eff, "loss": loss, "kappa": consts.kappa,
                           "transient": transient})


def scaled_sr_delta(fmt: ScaledFormat) -> tuple[Fraction, Fraction]:
    """(delta, s_f) for stochastic element rounding in a ceil/rceil e8m0 scaled format:
    ``delta = (4^-m + n_B s_f^2 kappa^2) / 4``, s_f the element's subnormal spacing."""
    kappa, _, _ = _kappa_y(fmt)
    grid = fmt.grid
    s_f = Fraction(grid.subnormal_spacing)
    m = grid.man_bits
    return (Fraction(1, 4 ** m) + fmt.block_size * s_f * s_f * kappa * kappa) / 4, s_f


def theorem9(*, L: Real, c: Real, d: int, M: Real, M_V: Real, fmt: ScaledFormat | str,
             mu: Real, gap: Real, k: int) -> Bound:
    """Theorem 9: SGD with stochastically rounded block-scaled gradients.

    Problem: F on R^d, L-smooth (A1), c-strongly convex (A3), (A2) with M, M_V.

    Method: ``w_{k+1} = w_k - mu Q(g_k)``: each block's scale computed from ``g_k``
    itself, elements rounded stochastically with fresh uniforms, rule ceil or rceil
    (``Y <= X_f``: nothing is clipped).

    Claim: ``E[Q(g) | g] = g`` and ``E||Q(g) - g||^2 <= delta ||g||^2 + d s_f^2 4^-128``
    with ``delta = (4^-m + n_B s_f^2 kappa^2)/4`` (m the element's mantissa bits, s_f its
    subnormal spacing, kappa of the rule).  So Theorem 1 holds with ``q_min = q_max = 1``,
    ``M_q = 0``, ``M' = (1 + delta) M + d s_f^2 4^-128``,
    ``M_G' = (1 + delta)(1 + M_V)``: with ``r = 1 - mu c`` and ``F' = L mu M'/(2c)``,
    ``E[F(w_k) - F*] <= F' + r^(k-1) (F(w_1) - F* - F')`` for every ``k >= 1``.  Compared
    with Theorem 7, block scaling makes the additive term ``4^-128`` times smaller and
    the rounding noise relative (delta).

    Constants: ``kappa`` of the rule as in :func:`theorem8` (ceil ``2^(1-emax_f)``, rceil
    ``2 / X_f``), ``n_B`` the block size, ``m`` and ``s_f`` the element's mantissa bits and
    subnormal spacing; ``4^-128`` comes from the smallest E8M0 scale ``2^-127``.

    Under floor the clipped block maxima make Q biased and the statement does not apply:
    refused.

    Assumptions (checked): ``L > 0``; ``0 < c <= L``; ``d >= 1``; ``M, M_V >= 0``; fmt an
    e8m0 scaled format with rule ceil or rceil, its element with subnormals;
    ``0 < mu <= 1/(L M_G')``; ``gap >= 0``; ``k >= 1``.

    Provenance: derived here for block-scaled (MX) formats; not a result of arXiv
    2508.07142.  The derivation was checked by hand and is checked by the suite only.

    Returns:
        Bound with terms ``floor``, ``rate``, ``M_prime``, ``M_G_prime``, ``delta`` and
        ``transient``.
    """
    from lpsgd.theory.formats_bridge import unbiased_rounding_arguments, unbiased_rounding_bound

    ck, a = unbiased_rounding_arguments("theorem9", as_scaled_format, L=L, c=c, d=d, M=M,
                                        M_V=M_V, fmt=fmt, mu=mu, gap=gap, k=k)
    fmt_ = a.fmt
    _require_mx(fmt_, "theorem9")
    ck.require(fmt_.rule != "floor", f"scale rule {fmt_.rule!r}: Y <= X_f",
               f"fmt={fmt_.label}: Theorem 9 assumes Y <= X_f (ceil or rceil scale rule); "
               f"under floor a block maximum is clipped and Q is biased")
    ck.require(fmt_.grid.subnormals, f"element {fmt_.element.label} has subnormals",
               f"element {fmt_.element.label} flushes subnormals to zero, so stochastic "
               f"rounding is biased below N_min and Theorem 9 does not apply")
    delta, s_f = scaled_sr_delta(fmt_)
    return unbiased_rounding_bound(
        ck, a, delta=delta, additive=a.d * s_f * s_f * _SCALE_MIN_SQ / 4,
        delta_text=f"delta={num(delta)}",
        reference=f"Theorem 9 (lpsgd.theory.theorem9, derived here: Theorem 1 with q = 1 "
                  f"and (M', M_G')); {PAPER}")
