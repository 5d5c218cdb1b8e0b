"""Maps the top-level web/ and firmware_profiles/ folders into the wheel (see pyproject.toml).

Their sub-folders are listed as packages too: setuptools treats every folder under a package
as a namespace package and warns about each one it is not told of.
"""

from setuptools import find_namespace_packages, find_packages, setup


def resources(package: str, folder: str) -> list[str]:
    """``package`` and one sub-package per sub-folder of ``folder``."""
    subs = find_namespace_packages(where=folder, exclude=["*__pycache__*"])
    return [package, *(f"{package}.{sub}" for sub in subs)]


setup(
    packages=[
        *find_packages(include=["roomctl*"]),
        *resources("roomctl._web", "web"),
        *resources("roomctl._profiles", "firmware_profiles"),
    ],
    package_dir={"roomctl._web": "web", "roomctl._profiles": "firmware_profiles"},
)
