"""tests/android_stubs/ invents nothing: every public class, field, constructor and method (with
its parameter and return types) is one that Android API 36 really has.

The reference is the signature stubs of the `chaquopy-stubs-android` package (generated from
android.jar, API 36): one `.pyi` module per Java package, one class per Java class, Java
overloads as Python overloads with typed, positional-only parameters. A stub class may extend
a class higher up the real hierarchy (Activity extends Context directly here), never one
that is not an ancestor.
"""
from __future__ import annotations

import ast
import re
import sys
from functools import cache
from pathlib import Path

import pytest

ts = pytest.importorskip("tree_sitter")
tree_sitter_java = pytest.importorskip("tree_sitter_java")

STUBS = Path(__file__).parent / "android_stubs"
# The methods every Java class has from java.lang.Object, which the .pyi files do not repeat.
OBJECT_METHODS = {("equals", ("java.lang.Object",)): "boolean", ("hashCode", ()): "int", ("toString", ()): "String"}
PRIMITIVES = {"int": {"int", "java.jint", "java.lang.Integer"}, "boolean": {"bool", "java.jboolean", "java.lang.Boolean"},
              "String": {"str", "java.lang.String"}, "void": {"None"}}
JAVA_LANG = {"String", "Object", "CharSequence", "RuntimeException", "Comparable", "Deprecated", "Override"}


@cache
def reference_root() -> Path:
    """site-packages/android-stubs/ (a folder, not an importable package: its name has a dash)."""
    for entry in map(Path, sys.path):
        candidate = entry / "android-stubs"
        if (candidate / "__init__.pyi").is_file():
            return candidate
    pytest.fail("chaquopy-stubs-android is not installed: it is in pyproject.toml's test extra (run scripts/setup)")


# ---- the reference: classes of the .pyi modules ------------------------------------------

class RefClass:
    """One class of the reference: its qualified name, bases, fields and method overloads."""

    def __init__(self, name: str, module: str, node: ast.ClassDef):
        self.name, self.module = name, module
        self.bases = [re.sub(r"\[.*\]", "", ast.unparse(b)) for b in node.bases]
        self.fields = {n.target.id for n in node.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)}
        self.methods: dict[str, list[tuple[tuple[frozenset[str], ...], frozenset[str]]]] = {}
        self.nested = {n.name: n for n in node.body if isinstance(n, ast.ClassDef)}
        for item in node.body:
            if isinstance(item, ast.FunctionDef):
                params = item.args.posonlyargs + item.args.args
                # `self`, and the outer instance an inner (non-static) class's constructor takes.
                params = [a for i, a in enumerate(params) if not (i == 0 and a.arg == "self") and a.arg != "this_0"]
                signature = tuple(self.types(a.annotation) for a in params)
                self.methods.setdefault(item.name, []).append((signature, self.types(item.returns)))

    def types(self, annotation: ast.expr | None) -> frozenset[str]:
        """The alternatives of an annotation, qualified: `Intent | None` in android.content → {android.content.Intent}."""
        if annotation is None:
            return frozenset({"None"})
        text = re.sub(r"\[.*\]", "", ast.unparse(annotation))
        members = [m.strip() for m in text.split("|")]
        if members == ["None"]:
            return frozenset({"None"})
        out = set()
        for member in members:
            if member == "None":
                continue
            head = member.split(".")[0]
            out.add(member if head in ("android", "java", "typing") or member in ("str", "int", "bool", "float")
                    else f"{self.module}.{member}")
        return frozenset(out)


@cache
def reference_module(module: str) -> ast.Module | None:
    path = reference_root().joinpath(*module.split(".")[1:], "__init__.pyi")
    return ast.parse(path.read_text(encoding="utf-8")) if path.is_file() else None


@cache
def reference_class(qualified: str) -> RefClass | None:
    """The reference class for android.pkg.Outer.Inner, or None when API 36 has no such class."""
    parts = qualified.split(".")
    for split in range(len(parts) - 1, 0, -1):
        module, names = ".".join(parts[:split]), parts[split:]
        tree = reference_module(module)
        if tree is None:
            continue
        body = tree.body
        node = None
        for name in names:
            node = next((n for n in body if isinstance(n, ast.ClassDef) and n.name == name), None)
            if node is None:
                return None
            body = node.body
        return RefClass(qualified, module, node)
    return None


def ancestors(qualified: str) -> list[RefClass | str]:
    """The class, then every ancestor: RefClass for android.*, the bare name for java.*."""
    seen, order, queue = set(), [], [qualified]
    while queue:
        name = queue.pop(0)
        if name in seen:
            continue
        seen.add(name)
        ref = reference_class(name) if name.startswith("android.") else None
        order.append(ref if ref is not None else name)
        if ref is not None:
            queue += [b if b.split(".")[0] in ("android", "java") else f"{ref.module}.{b}" for b in ref.bases]
    return order


# ---- the stubs: classes of tests/android_stubs/ --------------------------------------------

def parser():
    return ts.Parser(ts.Language(tree_sitter_java.language()))


def text(node) -> str:
    return node.text.decode("utf-8")


def is_visible(node, in_interface: bool) -> bool:
    modifiers = next((c for c in node.children if c.type == "modifiers"), None)
    words = text(modifiers).split() if modifiers is not None else []
    return "public" in words or "protected" in words or (in_interface and "private" not in words)


class StubFile:
    """One stub source: its package, imports and the classes it declares."""

    def __init__(self, path: Path):
        self.path = path
        self.root = parser().parse(path.read_bytes()).root_node
        self.package = text(next(c for c in self.root.children if c.type == "package_declaration")
                            .named_children[0])
        self.imports = {}
        for node in self.root.children:
            if node.type == "import_declaration":
                name = text(node.named_children[0])
                self.imports[name.rsplit(".", 1)[-1]] = name


def stub_files() -> list[StubFile]:
    return [StubFile(p) for p in sorted(STUBS.rglob("*.java"))]


def stub_classes(stub: StubFile):
    """(qualified name, declaration node, is interface) for each visible class, nested ones too."""
    def walk(nodes, outer, in_interface):
        for node in nodes:
            if node.type in ("class_declaration", "interface_declaration") and is_visible(node, in_interface):
                name = f"{outer}.{text(node.child_by_field_name('name'))}"
                interface = node.type == "interface_declaration"
                yield name, node, interface
                yield from walk(node.child_by_field_name("body").named_children, name, interface)
    yield from walk(stub.root.children, stub.package, False)


def resolve(type_text: str, stub: StubFile, scope: str, known: set[str]) -> str:
    """A Java type in a stub, qualified: WebView → android.webkit.WebView, int → int."""
    type_text = re.sub(r"<.*>", "", type_text).strip()
    if type_text in PRIMITIVES:
        return type_text
    head, _, rest = type_text.partition(".")
    if head in ("android", "java"):
        return type_text
    enclosing = [scope.rsplit(".", depth)[0] for depth in range(scope.count(".") - stub.package.count("."))]
    nested = next((f"{outer}.{head}" for outer in enclosing if f"{outer}.{head}" in known), None)
    if nested is not None:
        qualified = nested
    elif head in stub.imports:
        qualified = stub.imports[head]
    elif f"{stub.package}.{head}" in known:
        qualified = f"{stub.package}.{head}"
    elif head in JAVA_LANG:
        qualified = f"java.lang.{head}"
    else:
        qualified = f"{stub.package}.{head}"
    return f"{qualified}.{rest}" if rest else qualified


def matches(java: str, alternatives: frozenset[str]) -> bool:
    if java in PRIMITIVES:
        return bool(alternatives) and alternatives <= PRIMITIVES[java]
    if java == "java.lang.String":
        return bool(alternatives) and alternatives <= PRIMITIVES["String"]
    return java in alternatives


def problems_of(stub: StubFile, known: set[str]) -> list[str]:
    found = []
    for qualified, node, interface in stub_classes(stub):
        where = f"{stub.path.relative_to(STUBS)}: {qualified}"
        ref = reference_class(qualified)
        if ref is None:
            found.append(f"{where}: API 36 has no such class")
            continue
        line = ancestors(qualified)
        names = {r.name if isinstance(r, RefClass) else r for r in line}
        for field in ("superclass", "interfaces"):
            supers = node.child_by_field_name(field)
            for base in (supers.named_children[0].named_children if field == "interfaces" and supers else
                         [supers.named_children[0]] if supers else []):
                base_name = resolve(text(base), stub, qualified, known)
                if base_name not in names:
                    found.append(f"{where}: {base_name} is not one of its API 36 ancestors")
        if interface and node.child_by_field_name("interfaces") is None:
            for child in node.children:  # `interface X extends Y`
                if child.type == "extends_interfaces":
                    for base in child.named_children[0].named_children:
                        if resolve(text(base), stub, qualified, known) not in names:
                            found.append(f"{where}: {text(base)} is not one of its API 36 ancestors")
        refs = [r for r in line if isinstance(r, RefClass)]
        for member in node.child_by_field_name("body").named_children:
            if not is_visible(member, interface):
                continue
            if member.type == "field_declaration":
                for declarator in member.children_by_field_name("declarator"):
                    name = text(declarator.child_by_field_name("name"))
                    if not any(name in r.fields for r in refs):
                        found.append(f"{where}.{name}: API 36 has no such field")
            elif member.type in ("method_declaration", "constructor_declaration"):
                constructor = member.type == "constructor_declaration"
                name = "__init__" if constructor else text(member.child_by_field_name("name"))
                params = tuple(resolve(text(p.child_by_field_name("type")), stub, qualified, known)
                               for p in member.child_by_field_name("parameters").named_children
                               if p.type == "formal_parameter")
                returns = "void" if constructor else resolve(text(member.child_by_field_name("type")), stub, qualified, known)
                overloads = ref.methods.get(name, []) if constructor else [o for r in refs for o in r.methods.get(name, [])]
                ok = any(len(sig) == len(params) and all(matches(j, a) for j, a in zip(params, sig))
                         and (constructor or matches(returns, ret)) for sig, ret in overloads)
                short_returns = returns.rsplit(".", 1)[-1]
                ok = ok or OBJECT_METHODS.get((name, params)) == short_returns
                if not ok:
                    shown = f"{name}({', '.join(params)})" + ("" if constructor else f" -> {returns}")
                    found.append(f"{where}: API 36 has no {shown}")
    return found


def test_reference_is_api_36():
    root = reference_root()
    dist = next(root.parent.glob("chaquopy_stubs_android-*.dist-info"))
    assert dist.name.startswith("chaquopy_stubs_android-36."), dist.name
    assert reference_class("android.webkit.WebViewClient") is not None


def test_every_stub_is_a_real_api_36_signature():
    files = stub_files()
    known = {name for stub in files for name, _, _ in stub_classes(stub)}
    problems = [p for stub in files for p in problems_of(stub, known)]
    assert not problems, "\n".join(problems)


def test_an_invented_method_is_caught(tmp_path):
    """The check itself can fail: a parameter type, a method and a class Android lacks."""
    source = tmp_path / "Intent.java"
    source.write_text(
        "package android.content;\n"
        "import android.net.Uri;\n"
        "public class Intent {\n"
        "    public Intent(String action, Uri uri) { }\n"
        "    public Intent addCategory(int category) { return this; }\n"
        "    public void launchPaymentApp() { }\n"
        "    public static class Payment { }\n"
        "}\n", encoding="utf-8")
    stub = StubFile(source)
    stub.path = STUBS / "android" / "content" / "Intent.java"
    assert problems_of(stub, {"android.content.Intent", "android.net.Uri"}) == [
        "android/content/Intent.java: android.content.Intent: API 36 has no addCategory(int) -> android.content.Intent",
        "android/content/Intent.java: android.content.Intent: API 36 has no launchPaymentApp() -> void",
        "android/content/Intent.java: android.content.Intent.Payment: API 36 has no such class",
    ]
