"""scripts/serve installs only what running needs (issue 17): no test extras in a service's venv."""
import json
import os
import re
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


# -- scripts/npm-locked (issue 18): locked npm installs for the toolchains and the benches ----------

def npm_locked(tmp_path, src, dest) -> list[str]:
    """Run scripts/npm-locked with a fake npm on PATH; the npm command lines it ran."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    log = tmp_path / "npm.log"
    (bin_dir / "npm").write_text(f'#!/bin/sh\necho "$PWD $*" >> {log}\n', encoding="utf-8")
    (bin_dir / "npm").chmod(0o755)
    subprocess.run([str(ROOT / "scripts" / "npm-locked"), str(src), str(dest)], capture_output=True, text=True,
                   env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}, timeout=60, check=True)
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def test_npm_locked_installs_once_per_lock_file(tmp_path):
    src, dest = tmp_path / "src", tmp_path / "dest"
    src.mkdir()
    (src / "package.json").write_text('{"dependencies": {"a": "1.0.0"}}', encoding="utf-8")
    (src / "package-lock.json").write_text('{"lockfileVersion": 3}', encoding="utf-8")
    first = npm_locked(tmp_path, src, dest)
    assert first == [f"{dest} ci --ignore-scripts --no-audit --no-fund --loglevel=error"]
    assert (dest / "package-lock.json").read_text(encoding="utf-8") == '{"lockfileVersion": 3}'
    assert npm_locked(tmp_path, src, dest) == first, "an unchanged lock file is not installed again"
    (src / "package-lock.json").write_text('{"lockfileVersion": 3, "packages": {}}', encoding="utf-8")
    assert len(npm_locked(tmp_path, src, dest)) == 2
    assert len(list(dest.glob(".installed-*"))) == 1


def test_the_useragent_bench_pins_inapp_spy():
    package = json.loads((ROOT / "bench" / "node" / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((ROOT / "bench" / "node" / "package-lock.json").read_text(encoding="utf-8"))
    version = package["dependencies"]["inapp-spy"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), "an exact version, not a range"
    assert lock["packages"]["node_modules/inapp-spy"]["version"] == version
    assert "scripts/npm-locked tests/toolchains .cache/toolchains" in (ROOT / "scripts" / "setup").read_text()
