"""The one registry of drivers, keyed by the ``type`` of a ``[[devices]]`` entry.

Values are "module:function" strings imported lazily, so a driver whose library is missing
(python-miio, say) disables only its own devices. A ``type`` not listed here is taken as a
firmware profile id (``epson/escvp21``) and served by the generic profile driver.
Adding a driver is one file plus one line here.
"""

from __future__ import annotations

DRIVERS: dict[str, str] = {
    "pjlink": "roomctl.drivers.pjlink:create",
    "miio": "roomctl.drivers.miio:create",
}
PROFILE_DRIVER = "roomctl.drivers.profile:create"


def factory_path(device_type: str) -> str:
    """The "module:function" that builds a driver for ``device_type``."""
    return DRIVERS.get(device_type, PROFILE_DRIVER)
