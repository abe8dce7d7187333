"""The objective API from Python: values and gradients against numpy references, errors,
and the options structs against the C compiler's layout."""

import ctypes
import os
import shutil
import subprocess
import tempfile

import numpy as np
import pytest

import contrastive
from contrastive import _ffi

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


# --- numpy references (float64) ------------------------------------------------------------

def np_ntxent(z1, z2, tau, queue=None, euclid=False, decoupled=False):
    """NT-Xent loss and analytic gradient with the full (2n)×(2n+K) matrix."""
    z = np.concatenate([z1, z2]).astype(np.float64)
    m, n = z.shape[0], z.shape[0] // 2
    q = np.zeros((0, z.shape[1])) if queue is None else queue.astype(np.float64)
    if euclid:
        cols = np.concatenate([z, q])
        s = -((z[:, None, :] - cols[None, :, :]) ** 2).sum(-1) / tau
    else:
        norms = np.linalg.norm(z, axis=1, keepdims=True)
        u = z / norms
        qn = q / np.linalg.norm(q, axis=1, keepdims=True) if len(q) else q
        cols = np.concatenate([u, qn])
        s = u @ cols.T / tau
    pos = (np.arange(m) + n) % m
    mask = np.ones_like(s, dtype=bool)
    mask[np.arange(m), np.arange(m)] = False
    if decoupled:
        mask[np.arange(m), pos] = False
    sm = np.where(mask, s, -np.inf)
    mx = sm.max(1, keepdims=True)
    lse = mx[:, 0] + np.log(np.exp(sm - mx).sum(1))
    loss = np.mean(lse - s[np.arange(m), pos])
    if euclid:
        return loss, None
    p = np.where(mask, np.exp(s - lse[:, None]), 0.0)
    p[np.arange(m), pos] -= 1
    g = p / m
    du = (g[:, :m] + g[:, :m].T) @ u / tau + g[:, m:] @ qn / tau
    dz = (du - u * (u * du).sum(1, keepdims=True)) / norms
    return loss, dz


def fd_grad(f, x, h=1e-6):
    g = np.zeros_like(x, dtype=np.float64)
    for idx in np.ndindex(*x.shape):
        xp, xm = x.astype(np.float64), x.astype(np.float64)
        xp[idx] += h
        xm[idx] -= h
        g[idx] = (f(xp) - f(xm)) / (2 * h)
    return g


def data(n=16, d=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)).astype(np.float32), rng.standard_normal((n, d)).astype(np.float32)


# --- NT-Xent ------------------------------------------------------------------------------

@pytest.mark.parametrize("tau", [0.5, 0.1])
@pytest.mark.parametrize("decoupled", [False, True])
def test_ntxent_matches_numpy(tau, decoupled):
    z1, z2 = data(24, 16)
    loss, dz1, dz2 = contrastive.ntxent(z1, z2, temperature=tau, decoupled=decoupled)
    ref, dz = np_ntxent(z1, z2, tau, decoupled=decoupled)
    # float32 sums over 2n terms: relative error ~1e-6; the bounds leave 10-100× margin.
    assert abs(loss - ref) <= 1e-5 + 1e-5 * abs(ref)
    np.testing.assert_allclose(np.concatenate([dz1, dz2]), dz, atol=2e-6, rtol=1e-3)
    assert dz1.dtype == np.float32 and dz1.shape == z1.shape


def test_ntxent_gradient_against_finite_differences():
    z1, z2 = data(3, 4, seed=1)
    _, dz1, dz2 = contrastive.ntxent(z1, z2, temperature=0.3)
    g1 = fd_grad(lambda x: np_ntxent(x, z2, 0.3)[0], z1)
    g2 = fd_grad(lambda x: np_ntxent(z1, x, 0.3)[0], z2)
    np.testing.assert_allclose(dz1, g1, atol=1e-5, rtol=1e-3)
    np.testing.assert_allclose(dz2, g2, atol=1e-5, rtol=1e-3)


def test_ntxent_queue_and_euclidean():
    z1, z2 = data(8, 6, seed=2)
    queue = np.random.default_rng(3).standard_normal((10, 6)).astype(np.float32)
    loss, dz1, _ = contrastive.ntxent(z1, z2, temperature=0.2, queue=queue)
    ref, dz = np_ntxent(z1, z2, 0.2, queue=queue)
    assert abs(loss - ref) <= 1e-5 * max(1, abs(ref))
    np.testing.assert_allclose(dz1, dz[:8], atol=2e-6, rtol=1e-3)
    le, _, _ = contrastive.ntxent(z1 * 0.3, z2 * 0.3, temperature=2.0, similarity="euclidean", grad=False)
    ref_e, _ = np_ntxent(z1 * 0.3, z2 * 0.3, 2.0, euclid=True)
    assert abs(le - ref_e) <= 1e-5 * max(1, abs(ref_e))


def test_grad_false_returns_the_same_loss():
    z1, z2 = data()
    a = contrastive.ntxent(z1, z2)
    b = contrastive.ntxent(z1, z2, grad=False)
    assert a[0] == b[0] and b[1] is None and b[2] is None


def test_supcon_with_pair_labels_is_ntxent():
    z1, z2 = data(10, 5, seed=4)
    labels = np.concatenate([np.arange(10), np.arange(10)])
    l_sup, dz = contrastive.supcon(np.concatenate([z1, z2]), labels, temperature=0.4)
    l_nt, d1, d2 = contrastive.ntxent(z1, z2, temperature=0.4)
    assert abs(l_sup - l_nt) <= 1e-6 * abs(l_nt)
    np.testing.assert_allclose(dz, np.concatenate([d1, d2]), atol=1e-7, rtol=1e-5)


def test_moco_matches_numpy():
    q, k = data(6, 8, seed=7)
    rng = np.random.default_rng(8)
    queue = rng.standard_normal((20, 8))
    queue = (queue / np.linalg.norm(queue, axis=1, keepdims=True)).astype(np.float32)

    def ref(qq):
        qn = qq / np.linalg.norm(qq, axis=1, keepdims=True)
        kn = k / np.linalg.norm(k, axis=1, keepdims=True)
        logits = np.concatenate([(qn * kn).sum(1, keepdims=True), qn @ queue.T.astype(np.float64)], 1) / 0.2
        mx = logits.max(1, keepdims=True)
        return np.mean(mx[:, 0] + np.log(np.exp(logits - mx).sum(1)) - logits[:, 0])

    loss, dq, dk = contrastive.moco_loss(q, k, queue, temperature=0.2)
    assert abs(loss - ref(q.astype(np.float64))) < 1e-5 * max(1, loss)
    np.testing.assert_allclose(dq, fd_grad(ref, q), atol=1e-5, rtol=1e-3)
    assert contrastive.moco_loss(q, k, None)[0] == pytest.approx(0, abs=1e-7)   # the positive alone
    with pytest.raises(contrastive.InvalidArgumentError):
        contrastive.moco_loss(q, k, queue, temperature=0)


def test_byol_barlow_vicreg():
    p, z = data(12, 7, seed=5)
    loss, dp, dz = contrastive.byol_loss(p, z)
    pn = p / np.linalg.norm(p, axis=1, keepdims=True)
    zn = z / np.linalg.norm(z, axis=1, keepdims=True)
    assert abs(loss - (2 - 2 * np.mean((pn * zn).sum(1)))) < 1e-5
    assert np.isfinite(dp).all() and np.isfinite(dz).all()
    assert contrastive.byol_loss(p, p)[0] < 1e-6            # identical views: no loss
    lb, d1, d2 = contrastive.barlow_twins(p, z)
    lv, v1, v2 = contrastive.vicreg(p, z)
    assert lb > 0 and lv > 0 and np.isfinite(d1).all() and np.isfinite(v2).all()


def test_sinkhorn_marginals():
    rng = np.random.default_rng(6)
    emb = rng.standard_normal((256, 16)); protos = rng.standard_normal((40, 16))
    scores = (emb / np.linalg.norm(emb, axis=1, keepdims=True)) @ (protos / np.linalg.norm(protos, axis=1, keepdims=True)).T
    for use_double in (False, True):
        q = contrastive.sinkhorn(scores.astype(np.float32), use_double=use_double)
        np.testing.assert_allclose(q.sum(1), 1, atol=1e-5)
        q50 = contrastive.sinkhorn(scores.astype(np.float32), iterations=50, use_double=use_double)
        np.testing.assert_allclose(q50.sum(0), 256 / 40, rtol=1e-3)


# --- errors ---------------------------------------------------------------------------------

def test_errors():
    z1, z2 = data(4, 3)
    for tau in (0.0, -1.0, float("nan")):
        with pytest.raises(contrastive.InvalidArgumentError):
            contrastive.ntxent(z1, z2, temperature=tau)
    with pytest.raises(contrastive.ShapeMismatchError):
        contrastive.ntxent(z1, z2[:3])
    with pytest.raises(contrastive.ShapeMismatchError):
        contrastive.ntxent(z1, z2[:, :2])
    bad = z1.copy(); bad[1, 1] = np.nan
    with pytest.raises(contrastive.NumericError) as e:
        contrastive.ntxent(bad, z2)
    assert "z1[4]" in str(e.value)
    with pytest.raises(contrastive.InvalidArgumentError):
        contrastive.supcon(z1, [0, 1, -1, 0])
    with pytest.raises(contrastive.InvalidArgumentError):
        contrastive.sinkhorn(np.zeros((2, _ffi.CTR_SINKHORN_MAX_PROTOTYPES + 1), np.float32))
    with pytest.raises(contrastive.InvalidArgumentError):
        contrastive.ntxent(z1, z2, similarity="manhattan")


# --- layout -----------------------------------------------------------------------------------

STRUCTS = {
    "ctr_ntxent_options": ["temperature", "similarity", "decoupled", "queue", "queue_size"],
    "ctr_supcon_options": ["temperature", "similarity"],
    "ctr_barlow_twins_options": ["lambda", "scale"],
    "ctr_vicreg_options": ["invariance", "variance", "covariance", "eps", "gamma"],
    "ctr_sinkhorn_options": ["epsilon", "iterations", "use_double"],
}


def test_options_structs_match_the_header():
    cc = shutil.which(os.environ.get("CC", "gcc")) or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    lines = []
    for name, fields in STRUCTS.items():
        args = ", ".join([f"sizeof({name})"] + [f"offsetof({name}, {f})" for f in fields])
        lines.append(f'printf("{" ".join(["%zu"] * (len(fields) + 1))}\\n", {args});')
    src = "#include <stddef.h>\n#include <stdio.h>\n#include \"contrastive.h\"\nint main(void) {\n" + "\n".join(lines) + "\nreturn 0;\n}\n"
    with tempfile.TemporaryDirectory() as d:
        c, exe = os.path.join(d, "s.c"), os.path.join(d, "s")
        with open(c, "w") as f:
            f.write(src)
        subprocess.run([cc, "-std=c99", "-I", os.path.join(REPO, "include"), c, "-o", exe], check=True)
        rows = subprocess.run([exe], check=True, capture_output=True, text=True).stdout.splitlines()
    for (name, fields), row in zip(STRUCTS.items(), rows):
        S = getattr(_ffi, name)
        ours = [ctypes.sizeof(S)] + [getattr(S, "lambda_" if f == "lambda" else f).offset for f in fields]
        assert [int(v) for v in row.split()] == ours, name
        opts = S()
        getattr(_ffi.lib, name + "_default")(ctypes.byref(opts))
        assert opts.struct_size == ctypes.sizeof(S)
