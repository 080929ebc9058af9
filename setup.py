"""Build hook: ship the top-level cypher/ folder inside the package as graphkit/cypher.

Everything else is configured in pyproject.toml. The Cypher files live at the top of the
repository (analysts read and run them there); the library loads them from the installed
package, falling back to the repository folder when run from a source checkout.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

CYPHER_DIR = Path(__file__).parent / "cypher"


class BuildPyWithCypher(build_py):
    """build_py that also copies cypher/**/*.cypher to graphkit/cypher in the build."""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "graphkit" / "cypher"
        shutil.copytree(
            CYPHER_DIR,
            target,
            dirs_exist_ok=True,
            ignore=lambda folder, names: [
                n for n in names if not n.endswith(".cypher") and not (Path(folder) / n).is_dir()
            ],
        )


setup(cmdclass={"build_py": BuildPyWithCypher})
