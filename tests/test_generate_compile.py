"""The generated Java and Kotlin compile warning-free and decide the URL table right on the JVM.

javac -Xlint:all -Werror and Kotlin 2.x (npm's kotlin-compiler, installed by scripts/setup into
.cache/toolchains/) with -Werror compile the output for the shipped registry against
tests/android_stubs/, whose Uri and Intent.parseUri behave as AOSP's do. Then
tests/url_table/UrlTableRunner.java calls each WebViewClient's shouldOverrideUrlLoading for
every row of tests/data/url_table.yaml, once with every app installed and once with none.
"""
from pathlib import Path

import pytest

from webview_toolkit.generate import Options, render
from webview_toolkit.registry import load_registry

from .url_table import KOTLIN_HOME, MODES, RUNNERS, compare, load_cases, require, run
from .url_table import SHOP_OPTIONS

STUBS = Path(__file__).parent / "android_stubs"
KOTLINC = KOTLIN_HOME / "bin" / "kotlinc"
SHOP = Options(**SHOP_OPTIONS)


@pytest.fixture(scope="module")
def registry():
    return load_registry()


@pytest.fixture(scope="module")
def stub_classes(tmp_path_factory):
    """The Android stubs and the table runner, compiled once."""
    javac = require("javac", "javac (a JDK)")
    out = tmp_path_factory.mktemp("stubs")
    sources = sorted(STUBS.rglob("*.java")) + [RUNNERS / "UrlTableRunner.java"]
    run([javac, "-encoding", "UTF-8", "-d", out, *sources])
    return out


@pytest.fixture(scope="module")
def java_classes(registry, stub_classes, tmp_path_factory):
    """The generated Java, default and with every flag, in one javac -Werror run."""
    javac = require("javac", "javac (a JDK)")
    work = tmp_path_factory.mktemp("java")
    default = work / "default" / "PaymentWebView.java"
    shop = work / "shop" / "PaymentWebView.java"
    for path, options in ((default, Options()), (shop, SHOP)):
        path.parent.mkdir()
        path.write_text(render("android-java", registry, options=options), encoding="utf-8")
    result = run([javac, "-Xlint:all", "-Werror", "-encoding", "UTF-8", "-cp", stub_classes,
                  "-d", work / "out", default, shop])
    assert "warning" not in result.stderr
    return work / "out"


@pytest.fixture(scope="module")
def kotlin_classes(registry, stub_classes, tmp_path_factory):
    """The generated Kotlin, default and with every flag, in one Kotlin 2.x -Werror run."""
    kotlinc = require(KOTLINC if KOTLINC.exists() else None, "Kotlin 2.x (npm kotlin-compiler)")
    work = tmp_path_factory.mktemp("kotlin")
    default = work / "PaymentWebView.kt"
    shop = work / "ShopPaymentWebView.kt"
    default.write_text(render("android-kotlin", registry), encoding="utf-8")
    shop.write_text(render("android-kotlin", registry, options=SHOP), encoding="utf-8")
    result = run([kotlinc, "-Werror", "-cp", stub_classes, "-d", work / "out", default, shop])
    # The JVM's own notice about -Xverify is not about our code; the compiler's warnings are.
    warnings = [line for line in result.stderr.splitlines() if "warning:" in line and "VM warning" not in line]
    assert not warnings, result.stderr
    return work / "out"


def test_kotlin_is_2x():
    kotlinc = require(KOTLINC if KOTLINC.exists() else None, "Kotlin 2.x (npm kotlin-compiler)")
    version = run([kotlinc, "-version"]).stderr
    assert "kotlinc-jvm 2." in version, version


def test_java_compiles(java_classes):
    assert (java_classes / "com" / "example" / "payment" / "PaymentWebView$PaymentWebViewClient.class").exists()
    assert (java_classes / "com" / "shop" / "app" / "PaymentWebView.class").exists()


def test_kotlin_compiles(kotlin_classes):
    assert (kotlin_classes / "com" / "example" / "payment" / "PaymentWebViewClient.class").exists()
    assert (kotlin_classes / "com" / "shop" / "app" / "PaymentWebViewClient.class").exists()


def jvm_decisions(tmp_path, classpath, client_class):
    """Run UrlTableRunner over every Android row in both modes; mismatching rows as text lines."""
    expected, lines = [], []
    for case in load_cases():
        if case.android is None:
            continue
        for mode in MODES:
            expected.append((f"{mode} {case.url}", case.android[mode]))
            lines.append(f"{mode}\t{case.url}")
    cases = tmp_path / "cases.tsv"
    cases.write_text("\n".join(lines) + "\n", encoding="utf-8")
    java = require("java", "java (a JDK)")
    result = run([java, "-cp", ":".join(map(str, classpath)), "urltable.UrlTableRunner", cases, client_class])
    return compare(expected, result.stdout, client_class)


def test_java_handler_decides_the_url_table(tmp_path, stub_classes, java_classes):
    mismatches = jvm_decisions(tmp_path, [stub_classes, java_classes],
                               "com.example.payment.PaymentWebView$PaymentWebViewClient")
    assert not mismatches, "\n".join(mismatches)


def test_kotlin_handler_decides_the_url_table(tmp_path, stub_classes, kotlin_classes):
    stdlib = KOTLIN_HOME / "lib" / "kotlin-stdlib.jar"
    mismatches = jvm_decisions(tmp_path, [stub_classes, kotlin_classes, stdlib],
                               "com.example.payment.PaymentWebViewClient")
    assert not mismatches, "\n".join(mismatches)


def test_own_scheme_stays_in_the_shop_app(tmp_path, stub_classes, java_classes, kotlin_classes):
    """With --app-scheme, the return URL opens the shop's own package, never another app's."""
    stdlib = KOTLIN_HOME / "lib" / "kotlin-stdlib.jar"
    cases = tmp_path / "own.tsv"
    cases.write_text("installed\tmyshop://result?ordNo=1\n", encoding="utf-8")
    java = require("java", "java (a JDK)")
    for classpath, client in (([stub_classes, java_classes], "com.shop.app.PaymentWebView$PaymentWebViewClient"),
                              ([stub_classes, kotlin_classes, stdlib], "com.shop.app.PaymentWebViewClient")):
        result = run([java, "-cp", ":".join(map(str, classpath)), "urltable.UrlTableRunner", cases, client,
                      "--show-package"])
        assert result.stdout == "open myshop://result?ordNo=1 package=com.example.shop\n", client


def test_security_exception_falls_back_instead_of_crashing(tmp_path, stub_classes, java_classes, kotlin_classes):
    """An app whose activity refuses the intent (SecurityException) is treated as missing."""
    stdlib = KOTLIN_HOME / "lib" / "kotlin-stdlib.jar"
    cases = tmp_path / "guarded.tsv"
    cases.write_text("installed\tguardedpay://pay?id=1\n"
                     "installed\tintent://pay#Intent;scheme=guardedpay;package=com.example.guarded;end\n",
                     encoding="utf-8")
    java = require("java", "java (a JDK)")
    for classpath, client in (([stub_classes, java_classes], "com.example.payment.PaymentWebView$PaymentWebViewClient"),
                              ([stub_classes, kotlin_classes, stdlib], "com.example.payment.PaymentWebViewClient")):
        result = run([java, "-cp", ":".join(map(str, classpath)), "urltable.UrlTableRunner", cases, client])
        assert result.stdout.splitlines() == ["none", "store com.example.guarded"], client
