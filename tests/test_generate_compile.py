"""The generated Java and Kotlin compile against the Android stubs in tests/android_stubs/.

javac is required where it is installed; kotlinc (Debian's 1.3) is used when present.
Both compile the output for the shipped registry, which is what app developers paste in.
"""
import shutil
import subprocess
from pathlib import Path

import pytest

from webview_toolkit.generate import render
from webview_toolkit.registry import RegistryError, load_registry

STUBS = Path(__file__).parent / "android_stubs"


@pytest.fixture(scope="module")
def registry():
    try:
        return load_registry()
    except RegistryError as exc:
        pytest.skip(f"registry does not validate yet: {exc}")


@pytest.fixture(scope="module")
def stub_classes(tmp_path_factory):
    if shutil.which("javac") is None:
        pytest.skip("javac is not installed")
    out = tmp_path_factory.mktemp("stubs")
    sources = sorted(str(p) for p in STUBS.rglob("*.java"))
    run(["javac", "-d", str(out), *sources])
    return out


def run(command):
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{' '.join(command[:3])} failed:\n{result.stdout}{result.stderr}"
    return result


def test_java_compiles(registry, stub_classes, tmp_path):
    source = tmp_path / "PaymentWebView.java"
    source.write_text(render("android-java", registry), encoding="utf-8")
    result = run(["javac", "-Xlint:all", "-Werror", "-encoding", "UTF-8", "-cp", str(stub_classes),
                  "-d", str(tmp_path / "out"), str(source)])
    assert (tmp_path / "out" / "com" / "example" / "payment" / "PaymentWebView$PaymentWebViewClient.class").exists()
    assert "warning" not in result.stderr


def test_kotlin_compiles(registry, stub_classes, tmp_path):
    if shutil.which("kotlinc") is None:
        pytest.skip("kotlinc is not installed")
    source = tmp_path / "PaymentWebView.kt"
    source.write_text(render("android-kotlin", registry), encoding="utf-8")
    result = run(["kotlinc", "-cp", str(stub_classes), "-d", str(tmp_path / "out"), str(source)])
    assert (tmp_path / "out" / "com" / "example" / "payment" / "PaymentWebViewClient.class").exists()
    # The JVM's own notice about -Xverify is not about our code; the compiler's warnings are.
    warnings = [line for line in result.stderr.splitlines() if "warning:" in line and "VM warning" not in line]
    assert not warnings, result.stderr
