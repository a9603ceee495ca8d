"""The AR(1) recursion u_t = rho u_{t-1} + e_t (u_1 = e_1) as one PyTensor Op.

Written as a graph (a scan, or blocks of dense rho^(i-j) matrices) the recursion was half
of a gradient evaluation at 520 weekly bins and most of the numba compile. As an Op it is
one O(n) loop forward and one O(n) adjoint loop backward:

    a_n = g_n,  a_t = g_t + rho a_{t+1}        (g = dL/du)
    dL/de_t = a_t,  dL/drho = sum_{t >= 2} a_t u_{t-1}

Each Op has a numba implementation (what nutpie samples with) and a numpy one (what
PyMC's predictive and log-likelihood functions run).
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch import basic as numba_basic
from scipy.signal import lfilter


def _ar1_forward(rho: float, e: np.ndarray) -> np.ndarray:
    return lfilter([1.0], [1.0, -rho], e)


def _ar1_adjoint(rho: float, u: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, float]:
    a = lfilter([1.0], [1.0, -rho], g[::-1])[::-1]
    return a, float(np.dot(a[1:], u[:-1]))


class AR1Filter(Op):
    """u = AR(1) filter of the innovations e with coefficient rho."""

    __props__ = ()

    def make_node(self, rho, innovations):
        rho = pt.as_tensor_variable(rho, dtype="float64")
        innovations = pt.as_tensor_variable(innovations, dtype="float64")
        if rho.ndim != 0 or innovations.ndim != 1:
            raise TypeError("AR1Filter takes a scalar rho and a vector of innovations")
        return Apply(self, [rho, innovations], [innovations.type()])

    def perform(self, node, inputs, outputs):
        rho, e = inputs
        outputs[0][0] = _ar1_forward(float(rho), e)

    def infer_shape(self, fgraph, node, shapes):
        return [shapes[1]]

    def L_op(self, inputs, outputs, output_grads):
        # the adjoint needs the filtered path itself: take this node's output, not a new one
        grad_e, grad_rho = ar1_adjoint(inputs[0], outputs[0], output_grads[0])
        return [grad_rho, grad_e]


class AR1Adjoint(Op):
    """(dL/de, dL/drho) of the filter, given u and dL/du."""

    __props__ = ()

    def make_node(self, rho, u, g):
        rho, u, g = (pt.as_tensor_variable(x, dtype="float64") for x in (rho, u, g))
        return Apply(self, [rho, u, g], [u.type(), rho.type()])

    def perform(self, node, inputs, outputs):
        rho, u, g = inputs
        a, grad_rho = _ar1_adjoint(float(rho), u, g)
        outputs[0][0] = a
        outputs[1][0] = np.asarray(grad_rho)

    def infer_shape(self, fgraph, node, shapes):
        return [shapes[1], ()]


ar1_filter_op = AR1Filter()
ar1_adjoint = AR1Adjoint()


@numba_basic.register_funcify_default_op_cache_key(AR1Filter)
def _numba_ar1_filter(op, node, **kwargs):
    @numba_basic.numba_njit
    def ar1_filter(rho, e):
        r = rho.item()
        u = np.empty_like(e)
        prev = 0.0
        for t in range(e.shape[0]):
            prev = r * prev + e[t]
            u[t] = prev
        return u

    return ar1_filter


@numba_basic.register_funcify_default_op_cache_key(AR1Adjoint)
def _numba_ar1_adjoint(op, node, **kwargs):
    @numba_basic.numba_njit
    def ar1_adjoint(rho, u, g):
        r = rho.item()
        n = u.shape[0]
        a = np.empty_like(u)
        acc = 0.0
        grad_rho = 0.0
        for t in range(n - 1, -1, -1):
            acc = g[t] + r * acc
            a[t] = acc
            if t > 0:
                grad_rho += acc * u[t - 1]
        return a, np.asarray(grad_rho)

    return ar1_adjoint

