"""One definition of each problem type: cencomm/domain/problems.py.

Every slug the code can produce is in the catalogue, every title given in the code agrees with
it, and docs/problems.md's table is what scripts/problems-doc generates from it.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from types import ModuleType

import pytest

from cencomm.domain import errors
from cencomm.domain.problems import BY_SLUG, CATALOGUE, title_of
from cencomm.web.problems import SLUG_BY_STATUS, problem_body

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "cencomm"
SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
# Parameters and fields that carry a problem slug (`Readiness(..., problem="schema-outdated")`).
SLUG_PARAMETERS = {"slug", "problem"}


def _problems_doc() -> ModuleType:
    spec = importlib.util.spec_from_file_location("problems_doc", ROOT / "scripts/problems_doc.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Use:
    """A slug in the code, with the title given beside it (None: the catalogue's)."""

    slug: str
    title: str | None
    where: str
    in_class: bool = False  # a class attribute (else a call, a table or a comparison)


def _const(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _parameters(node: ast.AST) -> list[str]:
    """A function's parameters, or a class's annotated fields (dataclasses, NamedTuples)."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        args = node.args
        return [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]]
    if isinstance(node, ast.ClassDef):
        return [
            s.target.id
            for s in node.body
            if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
        ]
    return []


def _modules() -> dict[str, ast.Module]:
    return {
        ".".join(path.relative_to(ROOT).with_suffix("").parts): ast.parse(path.read_text())
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def _callables(modules: dict[str, ast.Module]) -> dict[str, dict[str, list[str]]]:
    """Per module, the names it can call that take a slug: its own and those it imports."""
    defined = {
        module: {
            node.name: params
            for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.ClassDef)
            and SLUG_PARAMETERS & set(params := _parameters(node))
        }
        for module, tree in modules.items()
    }
    visible: dict[str, dict[str, list[str]]] = {}
    for module, tree in modules.items():
        names = dict(defined[module])
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in defined:
                for alias in node.names:
                    if alias.name in defined[node.module]:
                        names[alias.asname or alias.name] = defined[node.module][alias.name]
        visible[module] = names
    return visible


def _uses() -> Iterator[Use]:
    modules = _modules()
    callables = _callables(modules)
    for module, tree in modules.items():
        for node in ast.walk(tree):
            where = f"{module}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Call):
                name = node.func.id if isinstance(node.func, ast.Name) else None
                bound = {k.arg: k.value for k in node.keywords if k.arg is not None}
                if name in callables[module]:
                    bound |= dict(zip(callables[module][name], node.args, strict=False))
                for parameter in SLUG_PARAMETERS & set(bound):
                    if (slug := _const(bound[parameter])) is not None:
                        yield Use(slug, _const(bound.get("title")), where)
            elif isinstance(node, ast.ClassDef):  # `slug = "..."` (and `title`) of error classes
                attrs = {
                    s.targets[0].id: _const(s.value)
                    for s in node.body
                    if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)
                }
                if (slug := attrs.get("slug")) is not None:
                    yield Use(slug, attrs.get("title"), where, in_class=True)
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
                if any(isinstance(t, ast.Name) and "SLUG" in t.id for t in node.targets):
                    for value in node.value.values:  # SLUG_BY_STATUS
                        if (slug := _const(value)) is not None:
                            yield Use(slug, None, where)
            elif (  # `exc.slug == "..."` (the client's)
                isinstance(node, ast.Compare)
                and isinstance(node.left, ast.Attribute)
                and node.left.attr == "slug"
            ):
                for other in node.comparators:
                    if (slug := _const(other)) is not None:
                        yield Use(slug, None, where)


USES = list(_uses())


def test_the_scan_finds_the_slugs_however_they_are_written() -> None:
    found = {use.slug for use in USES}
    assert {
        "duplicate-cid",  # Conflict(..., slug=...)
        "unknown-typ",  # a helper: invalid("unknown-typ", ...)
        "range-not-satisfiable",  # a class attribute
        "method-not-allowed",  # SLUG_BY_STATUS
        "schema-outdated",  # Readiness(...)
        "auth-timeout",  # web/ws.py's _error(401, "auth-timeout", ...)
        "mfa-enrolment-required",  # the client's exc.slug != "..."
    } <= found


def test_every_slug_the_code_uses_is_in_the_catalogue() -> None:
    missing = sorted(
        {f"{u.slug} ({u.where})" for u in USES if u.slug not in BY_SLUG and u.slug != "error"}
    )
    assert not missing, f"add these to cencomm/domain/problems.py: {missing}"


def test_error_classes_take_their_titles_from_the_catalogue() -> None:
    classes = [errors.CencommError]
    while classes:
        cls = classes.pop()
        classes.extend(cls.__subclasses__())
        if cls is not errors.CencommError:
            assert cls.title == title_of(cls.slug), cls
    assert errors.Conflict("x", slug="duplicate-cid").title == "Duplicate client id"
    assert errors.Invalid("x", slug="invalid-body").title == "Invalid message body"
    assert errors.Unauthenticated("x", slug="invalid-otp").title == "Invalid one-time code"
    assert errors.Conflict("x", slug="group-not-active").title == "Conflict with the current state"
    assert errors.Conflict("x").title == "Conflict with the current state"
    assert errors.Conflict("x", title="Given").title == "Given"
    assert errors.Conflict("x", slug="not-catalogued").title == errors.Conflict.title
    assert str(errors.NotFound()) == "Not found"


def test_an_error_class_with_a_slug_outside_the_catalogue_is_refused() -> None:
    with pytest.raises(TypeError, match="not-catalogued"):
        type("Stray", (errors.Conflict,), {"slug": "not-catalogued"})


def _wrong_titles(uses: list[Use]) -> list[str]:
    return sorted(
        f"{u.where}: {u.slug} {u.title!r} (catalogue: {title_of(u.slug)!r})"
        for u in uses
        if u.title is not None and u.slug in BY_SLUG and u.title != title_of(u.slug)
    )


def test_error_classes_give_no_other_title_than_the_catalogues() -> None:
    assert not _wrong_titles([u for u in USES if u.in_class])


def test_raise_sites_give_no_other_title_than_the_catalogues() -> None:
    assert not _wrong_titles([u for u in USES if not u.in_class])


def test_bare_statuses_answer_the_reason_phrase() -> None:
    """aiohttp's own errors: the title is the HTTP phrase, the catalogue's where it can be."""
    titles = {slug: problem_body(status, slug)["title"] for status, slug in SLUG_BY_STATUS.items()}
    assert titles == {slug: HTTPStatus(status).phrase for status, slug in SLUG_BY_STATUS.items()}
    # The generic slugs differ: raised as CencommError they carry the catalogue's title.
    generic = {
        cls.slug
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.CencommError)
    }
    assert {slug for slug, title in titles.items() if title != title_of(slug)} == generic - {
        "error"
    }


def test_the_catalogue_has_one_entry_per_slug() -> None:
    slugs = [p.slug for p in CATALOGUE]
    assert len(slugs) == len(set(slugs))
    for problem in CATALOGUE:
        assert SLUG.fullmatch(problem.slug), problem
        assert 400 <= problem.status < 600 and problem.title and problem.meaning, problem
        assert "\n" not in problem.meaning, problem


def test_docs_problems_md_is_generated_from_the_catalogue() -> None:
    doc = ROOT / "docs" / "problems.md"
    text = doc.read_text(encoding="utf-8")
    assert _problems_doc().render(text) == text, "run scripts/problems-doc"
    documented = re.findall(r"^\| ([a-z0-9-]+) \| (\d{3}) \|", text, flags=re.MULTILINE)
    assert documented == [(p.slug, str(p.status)) for p in CATALOGUE]
