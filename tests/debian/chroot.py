"""A clean Debian bookworm root for the package tests.

debootstrap runs once and its result is kept as a tarball in a cache folder
(with the .debs apt fetched, so later runs download only what changed); each
test session unpacks a fresh root from it.  Needs root, as debootstrap does.
"""

import os
import shutil
import subprocess
from pathlib import Path

SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
# systemd: `systemd-analyze verify` checks the units inside the root.
BASE_PACKAGES = "systemd"
ENVIRONMENT = {
    "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root",
    "LANG": "C.UTF-8",
    "DEBIAN_FRONTEND": "noninteractive",
}
# Maintainer scripts of a chroot must not start daemons on the host's network.
NO_DAEMONS = "#!/bin/sh\nexit 101\n"


def base_tarball(cache):
    """The debootstrapped root as a tarball in ``cache``, made on first use."""
    tarball = cache / f"{SUITE}-minbase.tar"
    if tarball.exists():
        return tarball
    staging = cache / "staging"
    shutil.rmtree(staging, ignore_errors=True)
    (cache / "debs").mkdir(parents=True, exist_ok=True)
    run(["debootstrap", "--variant=minbase", f"--include={BASE_PACKAGES}",
         f"--cache-dir={(cache / 'debs').resolve()}", SUITE, str(staging), MIRROR], timeout=1800)
    partial = tarball.with_suffix(".partial")
    run(["tar", "--numeric-owner", "-C", str(staging), "-cf", str(partial), "."], timeout=600)
    partial.rename(tarball)
    shutil.rmtree(staging)
    return tarball


def fresh_root(cache, root):
    """A new root at ``root`` from the cached tarball, ready for apt."""
    tarball = base_tarball(cache)
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    run(["tar", "--numeric-owner", "-xpf", str(tarball), "-C", str(root)], timeout=600)
    policy = root / "usr/sbin/policy-rc.d"
    policy.write_text(NO_DAEMONS)
    policy.chmod(0o755)
    shutil.copy("/etc/resolv.conf", root / "etc/resolv.conf")
    archives = apt_archives(cache)
    for deb in archives.glob("*.deb"):
        shutil.copy(deb, root / "var/cache/apt/archives")
    return root


def keep_downloads(cache, root):
    """Copy what apt fetched inside ``root`` back to the cache for the next run."""
    archives = apt_archives(cache)
    for deb in (root / "var/cache/apt/archives").glob("*.deb"):
        if not (archives / deb.name).exists():
            shutil.copy(deb, archives)


def apt_archives(cache):
    archives = cache / "apt-archives"
    archives.mkdir(parents=True, exist_ok=True)
    return archives


def in_root(root, *command, timeout=120, check=True, user=None, **options):
    """Run ``command`` inside ``root`` (as ``user`` when given); its CompletedProcess."""
    if user:
        command = ("setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups") + command
    return run(["chroot", str(root), *command], timeout=timeout, check=check, **options)


def start_in_root(root, command, user, environment):
    """Start ``command`` inside ``root`` as ``user``, in the background."""
    return subprocess.Popen(
        ["chroot", str(root), "setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups",
         "env", "-i", *(f"{key}={value}" for key, value in environment.items()), *command],
        env=ENVIRONMENT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def run(command, timeout, check=True, **options):
    result = subprocess.run(command, env={**os.environ, **ENVIRONMENT}, timeout=timeout,
                            capture_output=True, text=True, **options)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} exited {result.returncode}:\n"
                             f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def cache_folder(project):
    return Path(os.environ.get("MAILPOUCH_DEBOOTSTRAP_CACHE", project / "var/debootstrap"))
