"""genimg-edu: the helper package behind the course notebooks.

Everything a notebook needs at the top comes from here::

    from genimg_edu import device, seed_everything
    dev = device()          # honours GENIMG_DEVICE=cpu|cuda|auto
    seed_everything(0)

Sub-modules (`data`, `preprocess`, ...) are imported on demand; importing the
package does no work beyond that.
"""
from genimg_edu.runtime import device, environment_report, seed_everything, set_threads

__version__ = "0.1.0"
__all__ = ["device", "environment_report", "seed_everything", "set_threads", "__version__"]
