"""matplotlib backend for snippets: Agg, with `plt.show()` as a capture point.

Selected through MPLBACKEND=module://viscode.sandbox.mpl_backend, so it applies
whether matplotlib was imported by a warm supervisor or by the snippet itself.
"""

from matplotlib.backend_bases import _Backend
from matplotlib.backends.backend_agg import _BackendAgg

from . import capture


@_Backend.export
class _BackendViscode(_BackendAgg):
    @classmethod
    def show(cls, *args, **kwargs):
        capture.capture_matplotlib()
