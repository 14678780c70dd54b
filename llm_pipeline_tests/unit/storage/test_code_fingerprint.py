"""Cache keys follow the imports: what a module imports is covered, nothing else is."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from llm_pipeline.storage import code_fingerprint as fingerprint_module
from llm_pipeline.storage.code_fingerprint import DEFAULT_ROOT, code_fingerprint, package_modules_imported_by

FAKE_PACKAGE = {
    "__init__.py": '"""Fake package."""\n',
    "core/__init__.py": "from . import helpers\n",
    "core/helpers.py": "from .consts import LIMIT\n\n\ndef clamp(x):\n    return min(x, LIMIT)\n",
    "core/consts.py": "LIMIT = 3\n",
    "heavy/__init__.py": "",
    "heavy/thing.py": "VALUE = 1\n",
    "heavy/parse.py": "def extract(text):\n    return text.strip()\n",
    "jobs/__init__.py": "",
    "jobs/run.py": """\
        from __future__ import annotations

        import os
        from typing import TYPE_CHECKING

        import llm_pipeline.core
        from .. import util
        from ..util import tool

        if TYPE_CHECKING:
            from llm_pipeline.typing_only import Hint


        def lazy():
            from llm_pipeline.heavy import thing
            from llm_pipeline.heavy.parse import extract

            return extract(str(thing.VALUE)) + os.sep
        """,
    "util.py": "def tool():\n    return 1\n",
    "typing_only.py": "Hint = int\n",
    "unrelated.py": "def alone():\n    return 0\n",
}


@pytest.fixture
def fake_root(tmp_path: Path) -> Path:
    for relative, text in FAKE_PACKAGE.items():
        path = tmp_path / "llm_pipeline" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return tmp_path


def test_closure_lists_exactly_the_imported_modules_and_their_packages(fake_root: Path) -> None:
    assert package_modules_imported_by("llm_pipeline.jobs.run", root=fake_root) == [
        "llm_pipeline",
        "llm_pipeline.core",
        "llm_pipeline.core.consts",
        "llm_pipeline.core.helpers",  # pulled in by core/__init__.py
        "llm_pipeline.heavy",
        "llm_pipeline.heavy.parse",  # `from ... import extract`: a symbol, so its module
        "llm_pipeline.heavy.thing",  # `from ... import thing`: a submodule, inside a function
        "llm_pipeline.jobs",
        "llm_pipeline.jobs.run",
        "llm_pipeline.typing_only",  # under TYPE_CHECKING: included
        "llm_pipeline.util",
    ]
    assert package_modules_imported_by("llm_pipeline.core.consts", root=fake_root) == [
        "llm_pipeline",
        "llm_pipeline.core",
        "llm_pipeline.core.consts",
        "llm_pipeline.core.helpers",
    ]


def test_an_edit_inside_the_closure_changes_the_fingerprint_and_one_outside_does_not(fake_root: Path) -> None:
    before = code_fingerprint("llm_pipeline.jobs.run", root=fake_root)
    assert code_fingerprint("llm_pipeline.jobs.run", root=fake_root) == before

    unrelated = fake_root / "llm_pipeline" / "unrelated.py"
    unrelated.write_text(unrelated.read_text().replace("return 0", "return 42"))
    assert code_fingerprint("llm_pipeline.jobs.run", root=fake_root) == before

    parse = fake_root / "llm_pipeline" / "heavy" / "parse.py"  # reached only through a function-level import
    parse.write_text(parse.read_text().replace("text.strip()", "text.lstrip()"))
    after = code_fingerprint("llm_pipeline.jobs.run", root=fake_root)
    assert after != before

    consts = fake_root / "llm_pipeline" / "core" / "consts.py"  # reached through a package __init__
    consts.write_text("LIMIT = 4\n")
    assert code_fingerprint("llm_pipeline.jobs.run", root=fake_root) != after


def test_library_versions_enter_the_fingerprint(fake_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = code_fingerprint("llm_pipeline.util", root=fake_root)
    with_pyarrow = code_fingerprint("llm_pipeline.util", libraries=("pyarrow",), root=fake_root)
    with_absent = code_fingerprint("llm_pipeline.util", libraries=("surely-not-installed-xyz",), root=fake_root)
    assert len({plain, with_pyarrow, with_absent}) == 3

    monkeypatch.setattr(fingerprint_module.metadata, "version", lambda name: "0.0.0-other")
    assert code_fingerprint("llm_pipeline.util", libraries=("pyarrow",), root=fake_root) != with_pyarrow


def test_an_unknown_module_raises(fake_root: Path) -> None:
    with pytest.raises(ModuleNotFoundError, match="llm_pipeline.nope"):
        code_fingerprint("llm_pipeline.nope", root=fake_root)
    with pytest.raises(ModuleNotFoundError, match="llm_pipeline.util.nope"):
        package_modules_imported_by("llm_pipeline.util.nope", root=fake_root)
    with pytest.raises(ModuleNotFoundError, match="'os'"):
        code_fingerprint("os", root=fake_root)


def test_a_copy_of_the_real_package_follows_its_imports(tmp_path: Path) -> None:
    shutil.copytree(
        DEFAULT_ROOT / "llm_pipeline", tmp_path / "llm_pipeline", ignore=shutil.ignore_patterns("__pycache__")
    )
    closure = package_modules_imported_by("llm_pipeline.parse.sql", root=tmp_path)
    assert {"llm_pipeline", "llm_pipeline.parse", "llm_pipeline.parse.sql"} <= set(closure)
    assert {"llm_pipeline.parse.tabular", "llm_pipeline.parse.errors"} <= set(closure)

    sql_before = code_fingerprint("llm_pipeline.parse.sql", root=tmp_path)
    errors_before = code_fingerprint("llm_pipeline.parse.errors", root=tmp_path)
    tabular = tmp_path / "llm_pipeline" / "parse" / "tabular.py"
    tabular.write_text(tabular.read_text() + "\n\ndef _edited():\n    return 1\n")
    assert code_fingerprint("llm_pipeline.parse.sql", root=tmp_path) != sql_before
    assert code_fingerprint("llm_pipeline.parse.errors", root=tmp_path) == errors_before
