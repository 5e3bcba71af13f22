import pytest
import time_machine

from tests.support.tasks import NOW


@pytest.fixture
def frozen():
    """The clock stopped at `NOW`. Request it before any client so tokens are issued then."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller
