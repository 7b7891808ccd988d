"""Build hook: ship the top-level schemes/ registry inside the installed package."""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithRegistry(build_py):
    """Copy schemes/*.yaml into webview_toolkit/schemes of the build."""

    def run(self):
        super().run()
        target = Path(self.build_lib, "webview_toolkit", "schemes")
        target.mkdir(parents=True, exist_ok=True)
        for source in sorted(Path(__file__).parent.joinpath("schemes").glob("*.yaml")):
            shutil.copy2(source, target / source.name)


setup(cmdclass={"build_py": BuildWithRegistry})
