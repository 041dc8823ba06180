"""cygrad's thread pool as threadpoolctl sees it.

threadpoolctl (an optional package, used by scikit-learn and others) lists and limits the thread
pools of the native libraries a process has loaded: OpenBLAS's, OpenMP's. cygrad's pool is its own
(csrc/parallel.c), invisible to it; registering this controller makes `threadpool_info()` list it
(user_api "cygrad") and `threadpool_limits(n)` set it, as it sets numpy's BLAS. Without
threadpoolctl, or with a version that takes no custom controllers, nothing happens. The import
costs ~3 ms once numpy is loaded.
"""
from cygrad._core import get_num_threads, set_num_threads

try:
    from threadpoolctl import LibController, register
except ImportError:
    register = None

if register is not None:
    class CygradController(LibController):
        user_api = "cygrad"
        internal_api = "cygrad"
        # threadpoolctl finds libraries by file name: cygrad's is _core.cpython-*.so; another
        # package's _core is told apart by the symbol it lacks
        filename_prefixes = ("_core",)
        check_symbols = ("cg_set_num_threads",)

        def get_num_threads(self):
            return get_num_threads()

        def set_num_threads(self, num_threads):
            set_num_threads(num_threads)

        def get_version(self):
            from cygrad import __version__  # set after this module is imported
            return __version__

    register(CygradController)
