"""Maps the top-level web/ and firmware_profiles/ folders into the wheel (see pyproject.toml)."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["roomctl*"]), "roomctl._web", "roomctl._profiles"],
    package_dir={"roomctl._web": "web", "roomctl._profiles": "firmware_profiles"},
)
