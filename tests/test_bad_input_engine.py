"""Bad input to schedules, objectives, oracles, the engines and the expectations: one row each.

Every row raises InvalidArgument (or AssumptionError for valid numbers that break an
assumption) with a message naming the argument and its value; no row returns a number.
Messages are pinned by a regular expression of their full text.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from lpsgd import schedules
from lpsgd.errors import AssumptionError, InvalidArgument
from lpsgd.fast import expectations as fexp
from lpsgd.fast import sgd as fsgd
from lpsgd.objectives import (AdditiveNoise, CauchyLoss, DenseQuadratic, DiagonalQuadratic,
                              LeastSquares, LogisticRegression, Minibatch)
from lpsgd.reference import expectations as rexp
from lpsgd.reference import sgd as rsgd

NAN = float("nan")
Q = DiagonalQuadratic([1.0, 2.0])
W = np.array([1.0, 1.0])
I, A = InvalidArgument, AssumptionError

CASES = [
    # schedules
    ("constant mu=0", lambda: schedules.constant(0.0), I, r"Expected mu > 0 but got mu=0.0"),
    ("constant mu<0", lambda: schedules.constant(-1), I, r"Expected mu > 0 but got mu=-1"),
    ("constant mu=nan", lambda: schedules.constant(NAN), I,
     r"Expected mu to be a number but got mu=nan"),
    ("constant mu=str", lambda: schedules.constant("0.1"), I,
     r"Expected mu to be a real number but got mu='0.1'"),
    ("diminishing beta<=0", lambda: schedules.diminishing(0.0, 1.0), I,
     r"Expected beta > 0 but got beta=0.0"),
    ("diminishing gamma<=0", lambda: schedules.diminishing(1.0, -2.0), I,
     r"Expected gamma > 0 but got gamma=-2.0"),
    ("constant_q q=0", lambda: schedules.constant_q(0.0), I, r"Expected q > 0 but got q=0.0"),
    ("constant_q q>1", lambda: schedules.constant_q(1.5), I, r"Expected q <= 1 but got q=1.5"),
    ("constant_q q=nan", lambda: schedules.constant_q(NAN), I,
     r"Expected q to be a number but got q=nan"),
    ("random_q q_min<0", lambda: schedules.random_q(-0.1, seed=0), I,
     r"Expected q_min > 0 but got q_min=-0.1"),
    ("random_q seed<0", lambda: schedules.random_q(0.5, seed=-1), I,
     r"Expected seed >= 0 but got seed=-1"),
    ("periodic_q entry>1", lambda: schedules.periodic_q([0.5, 2.0]), I,
     r"Expected values\[1\] <= 1 but got values\[1\]=2.0"),
    ("periodic_q empty", lambda: schedules.periodic_q([]), I,
     r"Expected values to be non-empty but got values=\[\]"),
    ("adversarial q_max<q_min", lambda: schedules.adversarial_q(
        0.5, q_max=0.25, lambdas=[1.0], s1=[1.0], mu=0.1), I,
     r"Expected q_max >= q_min=0.5 but got q_max=0.25"),
    ("adversarial sigma2<0", lambda: schedules.adversarial_q(
        0.5, lambdas=[1.0], s1=[1.0], mu=0.1, sigma2=[-1.0]), I,
     r"Expected sigma2\[0\] >= 0 but got sigma2\[0\]=-1.0"),
    ("adversarial shapes", lambda: schedules.adversarial_q(
        0.5, lambdas=[1.0, 2.0], s1=[1.0], mu=0.1), I,
     r"Expected s1 to have length 2 but got length 1 \(s1=\[1.0\]\)"),
    ("values K<0", lambda: schedules.constant(0.1).values(-1), I,
     r"Expected K >= 0 but got K=-1"),
    # objectives
    ("lambdas<0", lambda: DiagonalQuadratic([1.0, -1.0]), I,
     r"Expected lambdas >= 0.0 elementwise but got lambdas containing -1.0"),
    ("lambdas nan", lambda: DiagonalQuadratic([1.0, NAN]), I,
     r"Expected lambdas to be finite but got lambdas containing nan"),
    ("w_star shape", lambda: DiagonalQuadratic([1.0, 2.0], w_star=[1.0]), I,
     r"Expected w_star to have shape \(2,\) but got shape \(1,\)"),
    ("A asymmetric", lambda: DenseQuadratic([[1.0, 0.5], [0.0, 1.0]]), I,
     r"Expected A to be symmetric \(A == A.T\) but got an asymmetric A"),
    ("A indefinite", lambda: DenseQuadratic([[1.0, 2.0], [2.0, 1.0]]), I,
     r"Expected A to be positive semidefinite but got smallest eigenvalue -1.0"),
    ("A not square", lambda: DenseQuadratic([[1.0, 2.0]]), I,
     r"Expected A to be a non-empty square matrix but got shape \(1, 2\)"),
    ("X nan", lambda: LeastSquares([[1.0, NAN], [0.0, 1.0]], [1.0, 2.0]), I,
     r"Expected X to be finite but got X containing nan"),
    ("y shape", lambda: LeastSquares([[1.0, 0.0], [0.0, 1.0]], [1.0, 2.0, 3.0]), I,
     r"Expected y to have shape \(2,\) to match X with shape \(2, 2\) but got shape \(3,\)"),
    ("logistic labels", lambda: LogisticRegression([[1.0], [2.0]], [1.0, 0.0], 0.1), I,
     r"Expected y in \{-1, \+1\} but got y containing 0.0"),
    ("logistic reg<0", lambda: LogisticRegression([[1.0], [2.0]], [1.0, -1.0], -0.1), I,
     r"Expected reg >= 0 but got reg=-0.1"),
    ("logistic F* reg=0", lambda: LogisticRegression([[1.0], [2.0]], [1.0, -1.0], 0.0).f_star,
     A, r"F\* of logistic regression needs reg > 0 \(strong convexity\); got reg=0"),
    ("cauchy a nan", lambda: CauchyLoss([NAN]), I, r"Expected a to be finite but got a "
                                                   r"containing nan"),
    ("value w shape", lambda: Q.value(np.ones(3)), I,
     r"Expected w to have last dimension d=2 but got shape \(3,\)"),
    ("grad w nan", lambda: Q.grad(np.array([1.0, NAN])), I,
     r"Expected w to be finite but got w containing nan"),
    ("grad w 3-d", lambda: Q.grad(np.ones((1, 1, 2))), I,
     r"Expected w to have 1 or 2 dimension\(s\) but got w with shape \(1, 1, 2\)"),
    ("value_mp length", lambda: Q.value_mp([1.0]), I,
     r"Expected w to have length d=2 but got length 1"),
    # oracles
    ("noise sigma2<0", lambda: AdditiveNoise(Q, sigma2=[1.0, -0.5]), I,
     r"Expected sigma2 >= 0.0 elementwise but got sigma2 containing -0.5"),
    ("noise sigma2 shape", lambda: AdditiveNoise(Q, sigma2=[1.0, 1.0, 1.0]), I,
     r"Expected sigma2 to have shape \(2,\) but got shape \(3,\)"),
    ("noise both", lambda: AdditiveNoise(Q, sigma2=1.0, cov=np.eye(2)), I,
     r"Expected exactly one of sigma2 and cov but got sigma2=1.0, cov=array"),
    ("noise cov indefinite", lambda: AdditiveNoise(Q, cov=[[1.0, 2.0], [2.0, 1.0]]), I,
     r"Expected cov to be positive semidefinite but got smallest eigenvalue -1.0"),
    ("noise objective", lambda: AdditiveNoise("F", sigma2=1.0), I,
     r"Expected objective to be an lpsgd.objectives.Objective but got objective='F'"),
    ("minibatch not finite sum", lambda: Minibatch(Q, 2), I,
     r"Expected objective to be a finite sum \(LeastSquares, LogisticRegression\) but got "),
    ("minibatch batch=0", lambda: Minibatch(LeastSquares.synthetic(5, 2, seed=0), 0), I,
     r"Expected batch >= 1 but got batch=0"),
    ("minibatch rank deficient", lambda: Minibatch(LeastSquares([[1.0, 1.0], [2.0, 2.0]],
                                                                [1.0, 0.0]), 1), A,
     r"minibatch \(M, M_V\) for least squares need c > 0"),
    # expectations
    ("moments q>1", lambda: rexp.quadratic_moments(Q, W, K=3, mu=0.1, q=1.5), I,
     r"Expected q <= 1 but got q=1.5"),
    ("moments mu<0", lambda: fexp.quadratic_moments(Q, W, K=3, mu=-0.1), I,
     r"Expected mu > 0 but got mu=-0.1"),
    ("moments K=0", lambda: rexp.quadratic_moments(Q, W, K=0, mu=0.1), I,
     r"Expected K >= 1 but got K=0"),
    ("moments tau2<0", lambda: rexp.quadratic_moments(Q, W, K=3, mu=0.1, tau2=[0.1, -0.1]),
     I, r"Expected tau2 >= 0 elementwise \(variances\) but got tau2 containing -0.1"),
    ("moments sigma2 shape", lambda: fexp.quadratic_moments(Q, W, K=3, mu=0.1,
                                                            sigma2=np.eye(3)), I,
     r"Expected sigma2 to have shape \(2, 2\) but got shape \(3, 3\)"),
    ("moments w1 shape", lambda: rexp.quadratic_moments(Q, [1.0], K=3, mu=0.1), I,
     r"Expected w1 to have shape \(2,\) but got shape \(1,\)"),
    ("moments w1 nan", lambda: fexp.quadratic_moments(Q, [1.0, NAN], K=3, mu=0.1), I,
     r"Expected w1 to be finite but got w1 containing nan"),
    ("moments non-quadratic", lambda: rexp.quadratic_moments(CauchyLoss([0.0, 0.0]), W, K=3,
                                                             mu=0.1), I,
     r"Expected objective to be a DiagonalQuadratic or DenseQuadratic but got objective="),
    ("moments q schedule as mu", lambda: rexp.quadratic_moments(
        Q, W, K=3, mu=schedules.constant_q(0.5)), I,
     r"Expected mu to be a stepsize schedule but got mu=constant_q\(0.5\) "
     r"\(a shrinkage schedule\)"),
    ("floor unstable", lambda: rexp.stationary_floor(Q, mu=1.0, q=1.0, sigma2=1.0), A,
     r"stationary floor needs 0 < mu\*q\*lambda_i < 2 for every i; got mu\*q\*lambda_2=2.0 "
     r"\(mu=1.0, q=1.0\)"),
    ("floor q=0", lambda: fexp.stationary_floor(Q, mu=0.1, q=0.0, sigma2=1.0), I,
     r"Expected q > 0 but got q=0.0"),
]

for _layer in (fsgd, rsgd):
    _tag = _layer.__name__.split(".")[1]
    CASES += [
        (f"{_tag} shrink q>1", lambda L=_layer: L.shrink(1.25), I,
         r"Expected q <= 1 but got q=1.25"),
        (f"{_tag} shrink q=nan", lambda L=_layer: L.shrink(NAN), I,
         r"Expected q to be a number but got q=nan"),
        (f"{_tag} add_noise tau2<0", lambda L=_layer: L.add_noise([0.1, -1.0]), I,
         r"Expected tau2 >= 0.0 elementwise but got tau2 containing -1.0"),
        (f"{_tag} quantize bad mode", lambda L=_layer: L.quantize("bfloat16", "nearest"), I,
         r"Unknown rounding='nearest'; valid values are: "),
        (f"{_tag} quantize bad format", lambda L=_layer: L.quantize("float9"), I,
         r"Unknown format='float9'; valid values are: binary64, "),
        (f"{_tag} chain non-transform", lambda L=_layer: L.chain(L.shrink(0.5), "x"), I,
         r"Expected transforms\[1\] to be a Transform but got 'x'"),
        (f"{_tag} run mu=0", lambda L=_layer: L.run(Q, W, K=3, mu=0.0), I,
         r"Expected mu > 0 but got mu=0.0"),
        (f"{_tag} run K=0", lambda L=_layer: L.run(Q, W, K=0, mu=0.1), I,
         r"Expected K >= 1 but got K=0"),
        (f"{_tag} run runs=0", lambda L=_layer: L.run(Q, W, K=2, mu=0.1, runs=0), I,
         r"Expected runs >= 1 but got runs=0"),
        (f"{_tag} run w1 shape", lambda L=_layer: L.run(Q, np.ones(3), K=2, mu=0.1), I,
         r"Expected w1 to have last dimension d=2 but got shape \(3,\)"),
        (f"{_tag} run w1 runs", lambda L=_layer: L.run(Q, np.ones((3, 2)), K=2, mu=0.1,
                                                       runs=2), I,
         r"Expected w1 to have shape \(2,\) or \(2, 2\) for runs=2 but got shape \(3, 2\)"),
        (f"{_tag} run w1 nan", lambda L=_layer: L.run(Q, [NAN, 1.0], K=2, mu=0.1), I,
         r"Expected w1 to be finite but got w1 containing nan"),
        (f"{_tag} run seed", lambda L=_layer: L.run(Q, W, K=2, mu=0.1, seed=-3), I,
         r"Expected seed >= 0 but got seed=-3"),
        (f"{_tag} run foreign oracle", lambda L=_layer: L.run(
            Q, W, K=2, mu=0.1, oracle=AdditiveNoise(DiagonalQuadratic([1.0, 2.0]), sigma2=1.0)),
         I, r"Expected oracle.objective to be the objective being minimised"),
        (f"{_tag} run gradient type", lambda L=_layer: L.run(Q, W, K=2, mu=0.1,
                                                             gradient=lambda g: g), I,
         r"Expected gradient to be a lpsgd\.\w+\.sgd\.Transform \(or None\) but got "),
        (f"{_tag} run objective", lambda L=_layer: L.run("F", W, K=2, mu=0.1), I,
         r"Expected objective to be an lpsgd.objectives.Objective but got objective='F'"),
        (f"{_tag} run tau2 shape", lambda L=_layer: L.run(
            Q, W, K=3, mu=0.1, gradient=L.add_noise([0.1, 0.1, 0.1])), I,
         r"Expected tau2 to have shape \(2,\) but got shape \(3,\)"),
    ]
CASES += [
    ("fast run other layer's piece", lambda: fsgd.run(Q, W, K=2, mu=0.1,
                                                      gradient=rsgd.shrink(0.5)), I,
     r"Expected gradient to be a lpsgd.fast.sgd.Transform \(or None\) but got "),
]


@pytest.mark.parametrize("call,error,message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert type(info.value) is error
    assert re.search(message, str(info.value)), str(info.value)


def test_case_names_unique():
    names = [c[0] for c in CASES]
    assert len(names) == len(set(names))
