# SPDX-License-Identifier: MIT
"""The build installed into a scratch DESTDIR, as a user outside the project sees it: the
pkg-config environment pointing at it, and what pkg-config says there."""
import os
import pathlib
import subprocess


class InstallError(Exception):
    pass


def install(build_dir, dest, pc_name):
    """Installs build_dir under dest; returns the environment in which pkg-config finds
    pc_name (e.g. "libebcc") inside dest. meson install builds what no test needed first (these
    tests are not run in parallel with others, so the build tree is theirs meanwhile)."""
    subprocess.run(["meson", "install", "-C", build_dir, "--quiet", "--destdir", dest],
                   check=True, stdout=subprocess.DEVNULL)
    pcs = sorted(pathlib.Path(dest).rglob(pc_name + ".pc"))
    if not pcs:
        raise InstallError(f"{pc_name}.pc was not installed under {dest}")
    return dict(os.environ, PKG_CONFIG_PATH=str(pcs[0].parent), PKG_CONFIG_SYSROOT_DIR=dest)


def pkg_config(env, *args):
    return subprocess.run(["pkg-config", *args], env=env, check=True, capture_output=True,
                          text=True).stdout.strip()
