"""Venvs of the reference checks (scripts/dcwm_official_check.py,
scripts/pets_reference.py): one per check under the cache, holding the
pure-Python packages a reference needs (installed from PyPI without their
dependency pins) and the project's torch linked in through a .pth file, and
the re-execution of a check script inside its venv.
"""

import glob
import os
import subprocess
import sys
from pathlib import Path

TORCH_DIR = "torch-2.11.0"


def cache_root() -> Path:
    return Path(os.environ.get("CTRLBENCH_CACHE", "~/.cache/ctrlbench")).expanduser()


def torch_site_packages() -> Path:
    """The site-packages of the project's torch for this python."""
    want = f"python{sys.version_info.major}.{sys.version_info.minor}"
    found = sorted(glob.glob(str(cache_root() / TORCH_DIR / "lib" / "python3.*" / "site-packages")))
    if not found:
        sys.exit(
            f"error: no torch under {cache_root() / TORCH_DIR}/lib/python3.*/site-packages "
            "(the project's torch 2.11; scripts/setup.sh installs it)"
        )
    for p in found:
        if f"/{want}/" in p:
            return Path(p)
    sys.exit(f"error: torch at {found} is not for {want} (the python3 running this script)")


def ensure_venv(name: str, packages: list, what: str, hint: str = "") -> Path:
    """Creates (once) the venv `cache/name` with `packages`; returns its python.
    `what` names the packages in the error; `hint` is added to it."""
    venv = cache_root() / name
    py = venv / "bin" / "python"
    ready = venv / f".{name}-ready"
    wanted = "\n".join(packages) + "\n"
    if ready.exists() and ready.read_text() == wanted and py.exists():
        return py
    site = torch_site_packages()
    if not py.exists():
        print(f"creating venv {venv}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    vsite = Path(
        subprocess.run(
            [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
    )
    (vsite / "ctrlbench_torch.pth").write_text(str(site) + "\n")
    cmd = [str(py), "-m", "pip", "install", "--disable-pip-version-check", "--no-deps", *packages]
    print("installing:", " ".join(cmd), flush=True)
    if subprocess.run(cmd).returncode != 0:
        sys.exit(
            f"error: pip could not install {what} into {venv} "
            "(no network, or a package index that lacks them?).\n"
            f"Install them by hand and rerun:\n  {' '.join(cmd)}" + (f"\n{hint}" if hint else "")
        )
    ready.write_text(wanted)
    return py


def reexec_in_venv(name: str, packages: list, what: str, script: str, hint: str = ""):
    """Runs `script` again with the venv's python unless already inside it."""
    venv = cache_root() / name
    flag = "CTRLBENCH_IN_" + name.upper().replace("-", "_")
    if os.path.realpath(sys.prefix) == os.path.realpath(venv):
        return
    if os.environ.get(flag):
        sys.exit(f"error: re-executed but not running in {venv} (sys.prefix={sys.prefix})")
    py = ensure_venv(name, packages, what, hint)
    env = dict(os.environ, **{flag: "1"})
    os.execve(str(py), [str(py), os.path.abspath(script), *sys.argv[1:]], env)
