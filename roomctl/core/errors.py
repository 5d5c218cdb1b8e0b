"""The project's exception tree. Branch on these types, never on message text."""

from __future__ import annotations

from dataclasses import dataclass


class RoomctlError(Exception):
    """Base class of every error roomctl raises on purpose."""


@dataclass(frozen=True)
class ConfigIssue:
    """One problem found in a configuration file."""

    path: str
    message: str
    file: str = ""
    hint: str = ""

    def __str__(self) -> str:
        where = f"{self.file}: " if self.file else ""
        key = self.path or "(top level)"
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}{key}: {self.message}{hint}"


class ConfigError(RoomctlError):
    """The configuration is invalid; carries every issue found, not just the first."""

    def __init__(self, issues: list[ConfigIssue] | tuple[ConfigIssue, ...]) -> None:
        self.issues = tuple(issues)
        super().__init__("\n".join(str(i) for i in self.issues) or "invalid configuration")


class ProfileError(RoomctlError):
    """A firmware profile is malformed or inconsistent."""

    def __init__(self, message: str, *, file: str = "", key: str = "") -> None:
        self.file = file
        self.key = key
        self.message = message  # without the file and key, for callers that name them
        where = ": ".join(p for p in (file, key) if p)
        super().__init__(f"{where}: {message}" if where else message)


class DeviceError(RoomctlError):
    """A device could not do what was asked."""


class Unavailable(DeviceError):
    """The device cannot be reached or does not answer; recovers by itself."""


class NotReady(DeviceError):
    """The device is busy (warming, cooling, locked out); retry later with backoff."""

    def __init__(self, message: str = "device busy", *, retry_after_s: float | None = None) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(message)


class CommandRejected(DeviceError):
    """The device understood the command and refused it (bad parameter, not allowed now)."""


class AuthenticationFailed(DeviceError):
    """The device refused our credentials; a person must fix the password or token."""


class ProtocolError(DeviceError):
    """The device answered something the protocol does not allow (garbage, bad checksum)."""


class PairingError(RoomctlError):
    """A join attempt was refused."""

    def __init__(self, reason: str, message: str = "") -> None:
        self.reason = reason
        super().__init__(message or reason)


class RateLimited(PairingError):
    """Too many attempts; try again after ``retry_after_s`` seconds."""

    def __init__(self, retry_after_s: float) -> None:
        self.retry_after_s = retry_after_s
        super().__init__("rate_limited", f"too many attempts, retry in {retry_after_s:.0f} s")


class PermissionDenied(RoomctlError):
    """The caller's role does not allow the operation."""
