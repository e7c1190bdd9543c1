"""genimg-edu: the helper package behind the course notebooks.

Everything a notebook needs at the top comes from here::

    from genimg_edu import device, seed_everything
    dev = device()          # honours GENIMG_DEVICE=cpu|cuda|auto
    seed_everything(0)

Sub-modules (`data`, `preprocess`, ...) are imported on demand; importing the
package does no work beyond that — except one default, set before PyTorch loads
OpenMP: threads that wait for work *sleep* instead of spinning (``OMP_WAIT_POLICY=PASSIVE``).
Measured on notebook 02 on a 2-core machine (benchmarks/threads_under_load.json): spinning
threads are 13 % faster on an idle machine, but beside one busy program two spinning threads
took 15 times as long as one thread. An ``OMP_WAIT_POLICY`` you set yourself wins.
"""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch is imported: OpenMP reads it once

from genimg_edu.runtime import device, environment_report, seed_everything, set_threads  # noqa: E402

__version__ = "0.1.0"
__all__ = ["device", "environment_report", "seed_everything", "set_threads", "__version__"]
