"""The fast engine: everything that exists only for speed (training buffers, ``out=``, fused
element-wise passes, compiled numba kernels, flat parameter views, the cheap divergence bound).

:class:`~mlpkit.fast.engine.FastEngine` has the small per-batch interface of the training loop
(``forward_loss``, ``backward``, ``gradient_sum``, ``step``); ``train(engine="auto")`` uses it
where it applies. It computes what the plain lecture core computes, and the test suite
(``tests/fast/test_speed_paths.py``) holds it to that, bit for bit where its docstrings say so.
"""
