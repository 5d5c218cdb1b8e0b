"""PJLink class 1 and 2: the pure codec (``protocol``), the TCP client and UDP search."""

from roomctl.pjlink.client import PjlinkClient
from roomctl.pjlink.protocol import (
    OutOfParameter,
    PasswordRefused,
    ProjectorFailure,
    UnavailableTime,
    UndefinedCommand,
)

__all__ = [
    "OutOfParameter",
    "PasswordRefused",
    "PjlinkClient",
    "ProjectorFailure",
    "UnavailableTime",
    "UndefinedCommand",
]
