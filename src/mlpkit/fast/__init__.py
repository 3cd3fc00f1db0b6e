"""The fast engine: everything that exists only for speed (training buffers, fused element-wise
passes, compiled numba kernels, flat parameter views).

It computes what the plain lecture core computes, and the test suite holds it to that.
"""
