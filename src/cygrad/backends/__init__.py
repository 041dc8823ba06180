"""Device backends of cygrad: array-level primitives for arrays that do not live in host memory.

The CPU backend is compiled into cygrad._core (the _backend_*.pxi files); `cuda` implements the
same primitives for CuPy arrays and is imported only when a GPU tensor is asked for."""
