"""The generated React Native code type-checks against both pinned react-native-webview
versions and decides the URL table right under Node; the Expo plugin runs through the real
@expo/config-plugins.

tsc --strict (TypeScript from tests/toolchains/package.json, installed by scripts/setup into
.cache/toolchains/) checks PaymentWebView.tsx, default and with every flag, against the oldest
supported react-native-webview (13.17.0, the first to declare `WebView<P = undefined>`) and the
newest (16.0.0). tests/url_table/run_react_native.js then runs its shouldLoadInWebView /
openExternally over tests/data/url_table.yaml with a fake Linking and Platform.
"""
import hashlib
import json
import plistlib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from webview_toolkit.generate import Options, render
from webview_toolkit.registry import load_registry

from .url_table import MODES, NODE_MODULES, RUNNERS, TOOLCHAINS, compare, load_cases, require, run
from .url_table import SHOP_OPTIONS

WEBVIEWS = {"oldest": "13.17.0", "newest": "16.0.0"}
EXPO_SAMPLES = Path(__file__).parent / "expo_plugin"
ANDROID = "{http://schemas.android.com/apk/res/android}"
SHOP = Options(**SHOP_OPTIONS)


@pytest.fixture(scope="module")
def registry():
    return load_registry()


@pytest.fixture(scope="module")
def tsc():
    return require(NODE_MODULES / ".bin" / "tsc" if (NODE_MODULES / ".bin" / "tsc").exists() else None,
                   "TypeScript (npm typescript)")


@pytest.fixture(scope="module")
def sources(registry, tmp_path_factory):
    """PaymentWebView.tsx, default and with every flag, in a folder under the toolchains so
    `react`, `react-native` and their types resolve from .cache/toolchains/node_modules."""
    if not NODE_MODULES.is_dir():
        require(None, "the npm toolchains (.cache/toolchains)")
    work = TOOLCHAINS / "work"
    work.mkdir(exist_ok=True)
    folder = tmp_path_factory.mktemp("tsx")  # a unique name, then the same under the toolchains
    target = work / folder.name
    target.mkdir(exist_ok=True)
    (target / "PaymentWebView.tsx").write_text(render("react-native", registry), encoding="utf-8")
    (target / "ShopPaymentWebView.tsx").write_text(render("react-native", registry, options=SHOP), encoding="utf-8")
    return target


@pytest.mark.parametrize("which", sorted(WEBVIEWS))
def test_tsc_strict(tsc, sources, which):
    package = NODE_MODULES / f"react-native-webview-{which}"
    assert json.loads((package / "package.json").read_text())["version"] == WEBVIEWS[which]
    config = {
        "compilerOptions": {
            "strict": True, "noEmit": True, "jsx": "react-native",  # as @react-native/typescript-config
            "target": "ES2020", "lib": ["ES2020"],
            "module": "ESNext", "moduleResolution": "bundler", "skipLibCheck": True,
            "noUnusedLocals": True, "noUnusedParameters": True,
            "paths": {"react-native-webview": [str(package)], "react-native-webview/*": [f"{package}/*"]},
        },
        "files": ["PaymentWebView.tsx", "ShopPaymentWebView.tsx"],
    }
    (sources / f"tsconfig.{which}.json").write_text(json.dumps(config), encoding="utf-8")
    run([tsc, "-p", sources / f"tsconfig.{which}.json"])


def test_react_native_handler_decides_the_url_table(sources, tmp_path):
    node = require("node", "Node.js")
    expected, lines = [], []
    for case in load_cases():
        for platform, decisions in (("android", case.android_js), ("ios", case.ios)):
            if decisions is None:
                continue
            for mode in MODES:
                expected.append((f"{platform} {mode} {case.url}", decisions[mode]))
                lines.append(f"{platform}\t{mode}\t{case.url}")
    cases = tmp_path / "cases.tsv"
    cases.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run([node, RUNNERS / "run_react_native.js", NODE_MODULES, sources / "PaymentWebView.tsx", cases])
    mismatches = compare(expected, result.stdout, "react-native")
    assert not mismatches, "\n".join(mismatches)


def test_window_open_stays_in_the_webview(sources, tmp_path):
    """window.open() reaches onOpenWindow: web pages load in the same WebView (never the system
    browser, react-native-webview #1775 / #1841), app URLs go to their app or its store."""
    node = require("node", "Node.js")
    cases = tmp_path / "window.tsv"
    cases.write_text("window\tinstalled\thttps://pay.kispg.co.kr/popup?tid=1\n"
                     "window\tmissing\tispmobile://TID=KISPG0000012345\n", encoding="utf-8")
    result = run([node, RUNNERS / "run_react_native.js", NODE_MODULES, sources / "PaymentWebView.tsx", cases])
    assert result.stdout.splitlines() == ["load https://pay.kispg.co.kr/popup?tid=1", "store kvp.jjy.MispAndroid320"]


def run_expo_plugin(registry, sources, tmp_path, options, props, times=1):
    """The sample manifest and plist after the plugin's mods ran `times` times over them."""
    node = require("node", "Node.js")
    text = render("expo-plugin", registry, options=options)
    # Named by its content: each variant gets its own file (Node caches modules by path).
    plugin = sources / f"withPaymentWebView-{hashlib.sha256(text.encode()).hexdigest()[:12]}.js"
    plugin.write_text(text, encoding="utf-8")
    manifest, info = tmp_path / "AndroidManifest.xml", tmp_path / "Info.plist"
    run([node, EXPO_SAMPLES / "run_plugin.js", NODE_MODULES, plugin, json.dumps(props), times,
         EXPO_SAMPLES / "AndroidManifest.xml", EXPO_SAMPLES / "Info.plist", manifest, info])
    return ET.parse(manifest).getroot(), plistlib.loads(info.read_bytes())


def test_expo_plugin_adds_queries_schemes_and_the_return_scheme(registry, sources, tmp_path):
    manifest, info = run_expo_plugin(registry, sources, tmp_path, Options(), {"appScheme": "myshop"}, times=2)
    packages = [e.get(f"{ANDROID}name") for e in manifest.findall("queries/package")]
    expected = {a.android_package for a in registry.select(platform="android")}
    assert packages[:2] == ["com.example.analytics", "com.kakao.talk"]  # the app's own entries stay
    assert set(packages) == expected | {"com.example.analytics"} and len(packages) == len(set(packages))
    assert [e.get(f"{ANDROID}scheme") for e in manifest.findall("queries/intent/data")] == ["https"]
    activity = manifest.find("application/activity")
    assert activity.get(f"{ANDROID}launchMode") == "singleTask"
    schemes = [d.get(f"{ANDROID}scheme") for d in activity.findall("intent-filter/data")]
    assert schemes == ["myshop"]
    returning = activity.findall("intent-filter")[1]
    assert {c.get(f"{ANDROID}name") for c in returning.findall("category")} == {
        "android.intent.category.DEFAULT", "android.intent.category.BROWSABLE"}

    queried = info["LSApplicationQueriesSchemes"]
    assert queried[:2] == ["fb", "ISPMobile"] and len(queried) == 50  # iOS reads no more
    assert len({s.lower() for s in queried}) == 50  # ispmobile is not added twice
    assert [t["CFBundleURLSchemes"] for t in info["CFBundleURLTypes"]] == [["com.example.shop"], ["myshop"]]


def test_expo_plugin_scheme_defaults_to_the_generated_one(registry, sources, tmp_path):
    _, info = run_expo_plugin(registry, sources, tmp_path, Options(app_scheme="shopapp"), {})
    assert ["shopapp"] in [t["CFBundleURLSchemes"] for t in info["CFBundleURLTypes"]]
    manifest, info = run_expo_plugin(registry, sources, tmp_path, Options(), {})
    assert len(info["CFBundleURLTypes"]) == 1  # no return scheme asked for, none added
    assert manifest.find("application/activity").get(f"{ANDROID}launchMode") is None


def test_native_intent_route(sources, tmp_path):
    """With openAndroidIntent, intent: URLs go to the native module first; the store only if it fails."""
    node = require("node", "Node.js")
    kakao = ("intent:#Intent;action=com.kakao.talk.intent.action.CAPRI_LOGGED_IN_ACTIVITY;"
             "package=com.kakao.talk;end")
    cases = tmp_path / "native.tsv"
    cases.write_text(f"native\tinstalled\t{kakao}\nnative\tmissing\t{kakao}\n"
                     "native\tinstalled\tispmobile://TID=1\n", encoding="utf-8")
    result = run([node, RUNNERS / "run_react_native.js", NODE_MODULES, sources / "PaymentWebView.tsx", cases])
    assert result.stdout.splitlines() == [f"open native {kakao}", "store com.kakao.talk", "open ispmobile://TID=1"]
