"""Every generated output parses: tree-sitter for code (no ERROR or MISSING node), XML / plistlib for the rest."""
import plistlib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from webview_toolkit.generate import render
from webview_toolkit.registry import RegistryError, load_registry

ts = pytest.importorskip("tree_sitter")

GRAMMARS = {
    "android-java": ("tree_sitter_java", "language"),
    "android-kotlin": ("tree_sitter_kotlin", "language"),
    "ios-swift": ("tree_sitter_swift", "language"),
    "react-native": ("tree_sitter_typescript", "language_tsx"),
    "flutter": ("tree_sitter_dart", "language"),
    "expo-plugin": ("tree_sitter_javascript", "language"),
}


def registries():
    yield pytest.param(Path(__file__).parent / "golden" / "registry", id="fixture")
    yield pytest.param(None, id="shipped")


@pytest.fixture(params=list(registries()))
def registry(request):
    try:
        return load_registry(request.param)
    except RegistryError as exc:
        pytest.skip(f"registry does not validate yet: {exc}")


def syntax_errors(node, found):
    if node.is_error or node.is_missing:
        found.append(f"{node.type} at line {node.start_point[0] + 1}")
    for child in node.children:
        syntax_errors(child, found)
    return found


@pytest.mark.parametrize("kind", sorted(GRAMMARS))
def test_code_parses(registry, kind):
    module_name, function = GRAMMARS[kind]
    module = pytest.importorskip(module_name)
    parser = ts.Parser(ts.Language(getattr(module, function)()))
    text = render(kind, registry)
    tree = parser.parse(text.encode("utf-8"))
    errors = syntax_errors(tree.root_node, [])
    lines = text.splitlines()
    assert not errors, "\n".join(f"{e}: {lines[int(e.rsplit(' ', 1)[1]) - 1]}" for e in errors[:5])


def test_manifest_is_xml(registry):
    ET.fromstring(render("android-manifest", registry).encode("utf-8"))


def test_plist_loads(registry):
    data = plistlib.loads(render("ios-plist", registry).encode("utf-8"))
    assert 0 < len(data["LSApplicationQueriesSchemes"]) <= 50
