import pytest

from tests.support.receiver import Receiver, Trickler


@pytest.fixture
def receiver():
    """A loopback receiver; the settings let webhooks reach it (plain http, loopback)."""
    made = []

    def make(**options) -> Receiver:
        made.append(Receiver(**options))
        return made[-1]

    yield make
    for one in made:
        one.close()


@pytest.fixture
def trickler():
    """A hostile receiver on loopback that trickles its headers (see Trickler)."""
    made = []

    def make(**options) -> Trickler:
        made.append(Trickler(**options))
        return made[-1]

    yield make
    for one in made:
        one.close()


@pytest.fixture
def local_targets(settings):
    settings.WEBHOOKS_ALLOW_INSECURE = True
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    return settings
