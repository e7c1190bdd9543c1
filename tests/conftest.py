"""Shared fixtures: one CPU thread per test (PyTorch's and NumPy's), so tiny models run fast beside other jobs.

`make test` runs the tests in three worker processes (pytest-xdist, ``-n 3``), each test on one thread;
the few heavy tests that use more threads ask for `cores`, their worker's share of the machine, so
that no worker's threads wait on another's.
"""
import os

import pytest
import torch
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True)
def one_thread():
    """Run each test on one intra-op thread and one BLAS thread (NumPy, SciPy: beside other workers their
    spinning pools ran eight times slower, `runtime.set_threads`); the previous counts come back afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def cores() -> int:
    """The cores this test process may keep busy: all of them when it runs alone, its share of them
    beside other pytest-xdist workers (beside a busy process, notebook 02 ran 15 % slower on two threads
    than on one, even with the passive wait policy: README, "Threads when the machine is busy")."""
    return max(1, (os.cpu_count() or 1) // int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
