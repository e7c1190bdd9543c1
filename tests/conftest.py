"""Shared fixtures: one CPU thread per test, so tiny models run fast beside other jobs."""
import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Run each test on one intra-op thread; the previous count comes back afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
