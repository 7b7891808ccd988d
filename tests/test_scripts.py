"""scripts/serve installs only what running needs (issue 17): no test extras in a service's venv."""
import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def dry_run(tmp_path, *args) -> str:
    """What scripts/setup would pip-install in a checkout with no venv yet."""
    for name in ("pyproject.toml", "setup.py"):
        shutil.copy2(ROOT / name, tmp_path / name)
    (tmp_path / "scripts").mkdir()
    shutil.copy2(ROOT / "scripts" / "setup", tmp_path / "scripts" / "setup")
    result = subprocess.run(["bash", str(tmp_path / "scripts" / "setup"), *args], capture_output=True, text=True,
                            env={**os.environ, "SETUP_DRY_RUN": "1"}, timeout=60, check=True)
    return result.stdout


def test_serve_installs_the_runtime_only(tmp_path):
    assert "scripts/setup --python" in (ROOT / "scripts" / "serve").read_text()
    assert dry_run(tmp_path, "--python").strip() == "setup: would run: pip install -e '.'"


def test_a_test_venv_serves_too_without_a_reinstall(tmp_path):
    (tmp_path / ".venv").mkdir()
    digest = subprocess.run("sha256sum pyproject.toml setup.py | sha256sum | cut -c1-16", shell=True, cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.strip()
    (tmp_path / ".venv" / f".installed-test-{digest}").touch()
    assert dry_run(tmp_path, "--python") == ""
