"""Cache keys over the code a result depends on, derived from the imports.

A hand-kept list of source files drifts: a helper moves to a new module, the list is not
updated, and a cache hands back results computed by old code. Here the list is the transitive
closure of `llm_pipeline` imports of the named modules, read statically with `ast` (importing
would be slow and could have side effects). Followed: `import llm_pipeline.x`, `from
llm_pipeline.x import y` (y a submodule or a symbol), relative imports, imports inside
functions, and imports under `if TYPE_CHECKING:` (included: the safe choice). Not followed:
dynamic imports by string (`importlib.import_module(name)`). Third-party code enters only
through the versions of `libraries`.
"""

from __future__ import annotations

import ast
import functools
import hashlib
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

PACKAGE = "llm_pipeline"
DEFAULT_ROOT = Path(__file__).resolve().parent.parent.parent  # the folder holding llm_pipeline/

# (module, names) per import statement: `from m import a, b` gives (m, ("a", "b")), `import m` gives (m, ()).
Imports = tuple[tuple[str, tuple[str, ...]], ...]


def code_fingerprint(*modules: str, libraries: Iterable[str] = (), root: Path | None = None) -> str:
    """sha256 hex over the source of `modules` (dotted names such as "llm_pipeline.parse.sql")
    and of every llm_pipeline module they import, followed transitively, plus the installed
    versions of `libraries` ('absent' when not installed).

    Each file enters as its path relative to `root` and its bytes, in sorted order, so editing
    or renaming a file of the closure changes the hash and editing any other file does not.
    `root` is the folder holding the `llm_pipeline` package (default: this file's package)."""
    base = _root(root)
    digest = hashlib.sha256()
    files = {path.relative_to(base).as_posix(): source for path, source in _closure(modules, base).values() if path}
    for relative in sorted(files):  # namespace packages have no file and add nothing
        source = files[relative]
        digest.update(b"file\0%s\0%d\0" % (relative.encode(), len(source)) + source)
    if isinstance(libraries, str):  # a lone name, not its letters
        libraries = (libraries,)
    for library in sorted(set(libraries)):
        try:
            version = metadata.version(library)
        except metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"library\0{library}=={version}\n".encode())
    return digest.hexdigest()


def package_modules_imported_by(*modules: str, root: Path | None = None) -> list[str]:
    """The sorted modules `code_fingerprint(*modules)` covers: `modules`, their parent
    packages and every llm_pipeline module they import, transitively; so a test or a reader
    can see what a cache key covers."""
    return sorted(_closure(modules, _root(root)))


def _root(root: Path | None) -> Path:
    return DEFAULT_ROOT if root is None else Path(root).resolve()


def _closure(modules: Iterable[str], root: Path) -> dict[str, tuple[Path | None, bytes]]:
    """module name -> (file, bytes) for the import closure of `modules`. Files are read on every
    call, so an edit is never hidden; only parsing is cached, keyed by the bytes."""
    found: dict[str, tuple[Path | None, bytes]] = {}
    pending: list[str] = []
    for name in modules:
        if name.split(".")[0] != PACKAGE or _locate(root, name) is None:
            raise ModuleNotFoundError(f"no module {name!r} in the {PACKAGE} package under {root}", name=name)
        pending.append(name)
    while pending:
        name = pending.pop()
        if name in found:
            continue
        located = _locate(root, name)
        if located is None:  # imported but missing (e.g. guarded by try/except ImportError)
            continue
        path, is_package = located
        source = b"" if path is None else path.read_bytes()
        found[name] = (path, source)
        parts = name.split(".")
        pending.extend(".".join(parts[:end]) for end in range(1, len(parts)))  # parents run first
        if path is None:
            continue
        for target, names in _imports(name, is_package, source, str(path)):
            if target.split(".")[0] != PACKAGE:
                continue
            pending.append(target)
            pending.extend(f"{target}.{sub}" for sub in names if _locate(root, f"{target}.{sub}") is not None)
    return found


def _locate(root: Path, name: str) -> tuple[Path | None, bool] | None:
    """(file, is_package) of module `name` under `root`, file None for a namespace package;
    None when there is no such module. A package wins over a same-named .py, as in Python."""
    base = root.joinpath(*name.split("."))
    if (base / "__init__.py").is_file():
        return base / "__init__.py", True
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py"), False
    if base.is_dir() and "." in name:  # namespace package (the top package itself must be regular)
        return None, True
    return None


@functools.lru_cache(maxsize=4096)
def _imports(module: str, is_package: bool, source: bytes, filename: str) -> Imports:
    """The absolute targets of every import statement in `source`, anywhere in the file."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[str, tuple[str, ...]]] = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            found.extend((alias.name, ()) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                if node.level - 1 >= len(parts):  # beyond the top package: fails at run time anyway
                    continue
                anchor = ".".join(parts[: len(parts) - (node.level - 1)])
                target = f"{anchor}.{node.module}" if node.module else anchor
            else:
                target = node.module or ""
            found.append((target, tuple(alias.name for alias in node.names if alias.name != "*")))
    return tuple(found)
