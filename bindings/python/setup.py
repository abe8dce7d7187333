"""Build hook: ship libcontrastive.so inside the package.

`pip install bindings/python` (after `make`) copies the repository's build/lib/libcontrastive.so.0
(or the file named by CONTRASTIVE_LIBRARY) into the installed `contrastive/` package, where the
loader finds it first after the environment variable (see contrastive/_ffi.py). Without a built
library the package installs without one and needs CONTRASTIVE_LIBRARY at run time.
"""
import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


def _library():
    env = os.environ.get("CONTRASTIVE_LIBRARY")
    for cand in ([env] if env else []) + [os.path.join(HERE, "..", "..", "build", "lib", "libcontrastive.so.0")]:
        if cand and os.path.isfile(cand):
            return os.path.realpath(cand)
    return None


class BuildWithLibrary(build_py):
    def run(self):
        super().run()
        lib = _library()
        if lib is None:
            print("setup.py: no built libcontrastive.so.0 found (run `make` first); installing without it")
            return
        dest = os.path.join(self.build_lib, "contrastive", "libcontrastive.so.0")
        shutil.copyfile(lib, dest)
        os.chmod(dest, 0o755)
        print(f"setup.py: bundled {lib} as {dest}")


setup(cmdclass={"build_py": BuildWithLibrary})
