"""The limits of a specification (docs/limits.md): each at the limit and one past it.

Past a limit the answer is one SpecError (exit status 2) naming the limit and the place; at the
limit the specification is accepted and compiles. Nothing here measures time: the cases that
used to take minutes or gigabytes (an alias bomb, a set that names one member a thousand times)
are checked by what is counted (files read, nodes built), not by a clock.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import idc_sql
from idc_sql.cli import main
from idc_sql.errors import Option, SpecError
from idc_sql.spec import CohortSpec, Not, digest, loading, source_files
from idc_sql.spec.limits import (
    MAX_FILE_BYTES,
    MAX_FILE_NESTING,
    MAX_LIST,
    MAX_NESTING,
    MAX_PREDICATES,
    MAX_SET_NESTING,
    MAX_YAML_ALIASES,
    MAX_YAML_EXPANSION,
)

NODES = ("not", "all", "any", "study_has", "patient_has", "segmented_by", "segments")
TOO_DEEP = f"predicates nested deeper than the limit of {MAX_NESTING} levels"
TOO_MANY = f"more predicates than the limit of {MAX_PREDICATES:,}"
TOO_LONG = f"more values than the limit of {MAX_LIST:,} in one list"
FILE_TOO_DEEP = f"lists and mappings nested deeper than the limit of {MAX_FILE_NESTING} levels"
SETS_TOO_DEEP = f"sets nested deeper than the limit of {MAX_SET_NESTING} levels"


def nested(key: str, levels: int, leaf: Any = None) -> Any:
    """``levels`` predicates ``key`` inside each other around ``leaf``."""
    node = leaf if leaf is not None else {"Modality": "CT"}
    for _ in range(levels):
        node = {key: [node]} if key in ("all", "any") else {key: node}
    return node


def short(key: str, levels: int) -> str:
    """The place of the predicate at ``levels``, shortened as messages shorten it."""
    parts = ["where"] + [f"{key}[0]" if key in ("all", "any") else key] * levels
    text = ".".join(parts).removesuffix("[0]")
    return SpecError(text, "").location


def refused(data: Any, **options: Any) -> SpecError:
    with pytest.raises(SpecError) as caught:
        idc_sql.parse_spec(data, **options)
    return caught.value


def cli(*args: str | Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


# ----------------------------------------------------------------------------- nesting


@pytest.mark.parametrize("key", NODES)
def test_nesting_at_the_limit_compiles(key: str) -> None:
    """At the limit, the deepest predicates compile and render without running out of stack."""
    spec = idc_sql.parse_spec({"name": "deep", "where": nested(key, MAX_NESTING)})
    engines = ["bigquery"] if key in ("segmented_by", "segments") else ["local", "bigquery"]
    for engine in engines:
        assert idc_sql.compile(spec, engine).sql.count("SELECT") >= 1


@pytest.mark.parametrize("key", NODES)
def test_nesting_one_past_the_limit(key: str) -> None:
    error = refused({"name": "deep", "where": nested(key, MAX_NESTING + 1)})
    assert (error.location, error.message) == (short(key, MAX_NESTING + 1), TOO_DEEP)
    assert "more)…" in error.location  # the place is shortened, never hundreds of words
    assert len(error.location) < 120


def test_nesting_counts_every_kind_on_one_path() -> None:
    mixed: Any = {"Modality": "CT"}
    for i in range(MAX_NESTING + 1):
        key = NODES[i % 5]  # not, all, any, study_has, patient_has
        mixed = {key: [mixed]} if key in ("all", "any") else {key: mixed}
    assert refused({"name": "x", "where": mixed}).message == TOO_DEEP


def test_wide_is_not_deep() -> None:
    """Many predicates side by side are one level."""
    wide = {"all": [nested("not", MAX_NESTING - 1) for _ in range(20)]}
    idc_sql.parse_spec({"name": "x", "where": wide})


@pytest.mark.parametrize(("key", "levels"), [("not", 300), ("study_has", 200)])
def test_deep_nesting_is_one_message_everywhere(
    key: str, levels: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """validate, count and compile refuse alike (they used to crash with a RecursionError)."""
    path = tmp_path / "deep.json"
    path.write_text(json.dumps({"name": "deep", "where": nested(key, levels)}), "utf-8")
    expected = f"idc-sql: error: {path}: {short(key, MAX_NESTING + 1)}: {TOO_DEEP}\n"
    for command in ("validate", "count", "compile"):
        assert cli(command, path, capsys=capsys) == (2, expected)


def test_specs_built_in_python_are_checked_too() -> None:
    node: Any = {"Modality": "CT"}
    for _ in range(MAX_NESTING + 1):
        node = Not(not_=node)
    with pytest.raises(SpecError) as caught:
        CohortSpec(name="x", where=node)
    assert caught.value.message == TOO_DEEP
    with pytest.raises(SpecError):
        idc_sql.compile({"name": "x", "where": nested("not", 1_000)})


# ----------------------------------------------------------------------------- size


def test_predicates_at_the_limit() -> None:
    where = {"all": [{"SeriesNumber": i} for i in range(MAX_PREDICATES - 1)]}
    idc_sql.parse_spec({"name": "x", "where": where})


@pytest.mark.parametrize(
    "where",
    [
        {"all": [{"SeriesNumber": i} for i in range(MAX_PREDICATES)]},
        {"any": [{"not": {"SeriesNumber": i}} for i in range(MAX_PREDICATES // 2)]},
        {f"field_{i}": 1 for i in range(MAX_PREDICATES + 1)},
        {"not": {"all": [{"Modality": "CT", "SeriesNumber": i} for i in range(MAX_PREDICATES)]}},
    ],
    ids=["all", "any-of-not", "one-mapping", "nested"],
)
def test_predicates_one_past_the_limit(where: dict[str, Any]) -> None:
    error = refused({"name": "x", "where": where})
    assert (error.location, error.message) == ("where", TOO_MANY)


def test_five_thousand_way_all(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """5,000 `not` under one `all` (it used to run for minutes): refused, exit status 2."""
    path = tmp_path / "wide.json"
    where = {"all": [{"not": {"SeriesNumber": i}} for i in range(5_000)]}
    path.write_text(json.dumps({"name": "wide", "where": where}), "utf-8")
    assert cli("count", path, capsys=capsys) == (2, f"idc-sql: error: {path}: where: {TOO_MANY}\n")


@pytest.mark.parametrize("key", ["in", "not_in"])
def test_list_at_and_past_the_limit(key: str) -> None:
    values = [f"1.2.{i}" for i in range(MAX_LIST)]
    idc_sql.parse_spec({"name": "x", "where": {"SeriesInstanceUID": {key: values}}})
    values.append("1.2.3")
    error = refused({"name": "x", "where": {"any": [{"SeriesInstanceUID": {key: values}}]}})
    assert (error.location, error.message) == (f"where.any[0].SeriesInstanceUID.{key}", TOO_LONG)


@pytest.mark.parametrize("key", ["columns", "order_by", "licenses"])
def test_other_lists_past_the_limit(key: str) -> None:
    error = refused({"name": "x", key: ["Modality"] * (MAX_LIST + 1)})
    assert (error.location, error.message) == (key, TOO_LONG)
    error = refused({"name": "x", "where": {"Modality": ["CT"] * (MAX_LIST + 1)}})
    assert (error.location, error.message) == ("where.Modality", TOO_LONG)


# ----------------------------------------------------------------------------- files


def test_file_size_at_and_past_the_limit(tmp_path: Path) -> None:
    text = json.dumps({"name": "x", "where": {"Modality": "CT"}})
    path = tmp_path / "big.json"
    path.write_text(text + " " * (MAX_FILE_BYTES - len(text)), "utf-8")
    assert path.stat().st_size == MAX_FILE_BYTES
    assert idc_sql.load_spec(path).name == "x"
    with path.open("a") as file:
        file.write(" ")
    with pytest.raises(SpecError) as caught:
        idc_sql.load_spec(path)
    assert (caught.value.location, caught.value.message) == (
        str(path),
        "larger than the limit of 64 MiB for a specification file",
    )


def _deep_document(levels: int, suffix: str) -> str:
    """A spec whose description is ``levels`` lists deep (in JSON and in YAML flow style)."""
    inner = "[" * (levels - 1) + "]" * (levels - 1)
    if suffix == ".json":
        return '{"name": "x", "description": ' + inner + "}"
    return "{name: x, description: " + inner + "}"


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_file_nesting_at_and_past_the_limit(suffix: str, tmp_path: Path) -> None:
    path = tmp_path / f"deep{suffix}"
    path.write_text(_deep_document(MAX_FILE_NESTING, suffix), "utf-8")
    with pytest.raises(SpecError) as caught:
        idc_sql.load_spec(path)
    # decoded: what is refused is the value, by validation
    assert caught.value.location == f"{path}: description"
    path.write_text(_deep_document(MAX_FILE_NESTING + 1, suffix), "utf-8")
    with pytest.raises(SpecError) as caught:
        idc_sql.load_spec(path)
    column = len(_deep_document(MAX_FILE_NESTING + 1, suffix).split("[")[0]) + MAX_FILE_NESTING
    assert (caught.value.location, caught.value.message) == (f"{path}:1:{column}", FILE_TOO_DEEP)


def test_six_hundred_deep_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """It used to crash the JSON decoder."""
    path = tmp_path / "deep.json"
    head = '{"name": "x", "where": '
    path.write_text(head + '{"not": ' * 600 + "{}" + "}" * 601, "utf-8")
    column = len(head) + len('{"not": ') * (MAX_FILE_NESTING - 1) + 1  # the first past the limit
    code, err = cli("validate", path, capsys=capsys)
    assert (code, err) == (2, f"idc-sql: error: {path}:1:{column}: {FILE_TOO_DEEP}\n")


def test_a_deep_stack_still_gets_a_spec_error(tmp_path: Path) -> None:
    """Below the file's limit, but called with little stack left: a SpecError all the same."""
    path = tmp_path / "deep.json"
    path.write_text("[" * 400 + "]" * 400, "utf-8")
    limit = sys.getrecursionlimit()
    depth = 0
    frame = sys._getframe()
    while frame.f_back is not None:
        frame, depth = frame.f_back, depth + 1
    sys.setrecursionlimit(depth + 200)
    try:
        with pytest.raises(SpecError) as caught:
            loading._decode(path.read_text("utf-8"), path)
    finally:
        sys.setrecursionlimit(limit)
    assert (caught.value.location, caught.value.message) == (str(path), FILE_TOO_DEEP)


# ----------------------------------------------------------------------------- YAML


def _aliases(count: int, anchor_values: int) -> str:
    """A valid spec: one list anchored, then named by ``count`` aliases."""
    values = ", ".join(str(i) for i in range(anchor_values))
    lines = ["name: x", "where:", "  all:", f"    - SeriesNumber: {{in: &v [{values}]}}"]
    lines += ["    - SeriesNumber: {in: *v}"] * count
    return "\n".join(lines) + "\n"


def test_yaml_aliases_at_the_limits(tmp_path: Path) -> None:
    # each alias stands for the list and its values: MAX_YAML_EXPANSION in all
    per_alias = MAX_YAML_EXPANSION // MAX_YAML_ALIASES
    path = tmp_path / "a.yaml"
    path.write_text(_aliases(MAX_YAML_ALIASES, per_alias - 1), "utf-8")
    spec = idc_sql.load_spec(path)
    assert isinstance(spec, CohortSpec)


def test_yaml_aliases_one_past_the_count(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(_aliases(MAX_YAML_ALIASES + 1, 1), "utf-8")
    with pytest.raises(SpecError) as caught:
        idc_sql.load_spec(path)
    line = 4 + MAX_YAML_ALIASES + 1
    assert (caught.value.location, caught.value.message) == (
        f"{path}:{line}:26",
        f"more aliases than the limit of {MAX_YAML_ALIASES:,}",
    )


def test_yaml_aliases_one_past_the_expansion(tmp_path: Path) -> None:
    per_alias = MAX_YAML_EXPANSION // MAX_YAML_ALIASES
    path = tmp_path / "a.yaml"
    # the anchor is one value longer: the expansion passes the limit before the count does
    path.write_text(_aliases(MAX_YAML_ALIASES, per_alias), "utf-8")
    with pytest.raises(SpecError) as caught:
        idc_sql.load_spec(path)
    crossing = MAX_YAML_EXPANSION // (per_alias + 1) + 1
    assert (caught.value.location, caught.value.message) == (
        f"{path}:{4 + crossing}:26",
        f"aliases stand for more nodes than the limit of {MAX_YAML_EXPANSION:,}",
    )


def test_alias_bomb_is_refused_before_it_expands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eleven levels of nine aliases each: 9**11 predicates if expanded; refused at line 9."""
    lines = ["name: bomb", "where:", "  all:", "    - &l0 {Modality: CT}"]
    for i in range(1, 12):
        lines.append(f"    - &l{i} {{all: [{', '.join([f'*l{i - 1}'] * 9)}]}}")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    from idc_sql import _yaml

    built = 0
    original = _yaml._Builder._add

    def counting(self: Any, *args: Any) -> None:
        nonlocal built
        built += 1
        original(self, *args)

    monkeypatch.setattr(_yaml._Builder, "_add", counting)
    with pytest.raises(SpecError) as caught:
        idc_sql.load_spec(path)
    assert (caught.value.location, caught.value.message) == (
        f"{path}:9:33",
        f"aliases stand for more nodes than the limit of {MAX_YAML_EXPANSION:,}",
    )
    assert built < 200  # nothing was expanded: only the file's own nodes were added


MERGES = {
    "one": (
        "name: x\nwhere:\n  all:\n    - &ct {Modality: CT, collection_id: nlst}\n"
        "    - {<<: *ct, collection_id: lidc_idri}\n",
        [{"Modality": "CT", "collection_id": "nlst"},
         {"Modality": "CT", "collection_id": "lidc_idri"}],
    ),
    "list": (
        "name: x\nwhere:\n  any:\n    - &a {Modality: CT, PatientSex: F}\n"
        "    - &b {Modality: MR, BodyPartExamined: BRAIN}\n    - <<: [*a, *b]\n",
        [{"Modality": "CT", "PatientSex": "F"},
         {"Modality": "MR", "BodyPartExamined": "BRAIN"},
         {"Modality": "CT", "BodyPartExamined": "BRAIN", "PatientSex": "F"}],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(MERGES))
def test_yaml_merge_keys_work(case: str, tmp_path: Path) -> None:
    text, expected = MERGES[case]
    path = tmp_path / "m.yaml"
    path.write_text(text, "utf-8")
    spec = idc_sql.load_spec(path)
    dumped = spec.model_dump(mode="json", by_alias=True, exclude_none=True)["where"]
    assert next(iter(dumped.values())) == expected
    assert idc_sql.compile(spec).params  # and it means what it says


YAML_REFUSED = {
    "merge-of-a-value": ("name: x\nwhere: {<<: [1, 2]}\n", ":2:9", "malformed YAML: a merge key "
                         "(<<) takes a mapping or a list of mappings"),
    "two-merges": ("name: x\nb: &b {Modality: CT}\nwhere: {<<: *b, <<: *b}\n", ":3:17",
                   "malformed YAML: duplicate key '<<'"),
    "set-tag": ("name: x\ncolumns: !!set {Modality}\n", ":2:10",
                "malformed YAML: the tag 'tag:yaml.org,2002:set' is not supported"),
    "custom-tag": ("name: !cohort x\n", ":1:7",
                   "malformed YAML: the tag '!cohort' is not supported"),
    "duplicate-anchor": ("name: &n x\ndescription: &n y\n", ":2:14",
                         "malformed YAML: found duplicate anchor 'n'"),
    "recursive-alias": ("name: x\ncolumns: &c [*c]\n", ":2:14",
                        "malformed YAML: the alias 'c' refers to a node that contains it"),
    "undefined-alias": ("name: *n\n", ":1:7", "malformed YAML: the alias 'n' is not defined"),
    "two-documents": ("name: x\n---\nname: y\n", ":2:1",
                      "malformed YAML: expected one document, found another"),
    "nul": ("name: x\nwhere: {Moda\0lity: CT}\n", ":2:13",
            "malformed YAML: control characters are not allowed: '\\x00'"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(YAML_REFUSED))
def test_yaml_refused(case: str, tmp_path: Path) -> None:
    text, position, message = YAML_REFUSED[case]
    path = tmp_path / "c.yaml"
    path.write_text(text, "utf-8")
    with pytest.raises(SpecError) as caught:
        idc_sql.load_spec(path)
    assert (caught.value.location, caught.value.message) == (f"{path}{position}", message)


# ----------------------------------------------------------------------------- sets


def _chain(folder: Path, levels: int, fan_out: int = 2, leaf: str = "") -> Path:
    """``levels`` set files, each naming the one below ``fan_out`` times; a cohort at the bottom."""
    (folder / "leaf.yaml").write_text(leaf or "name: leaf\nwhere: {Modality: CT}\n", "utf-8")
    below = "leaf.yaml"
    for level in range(1, levels + 1):
        (folder / f"s{level}.yaml").write_text(
            f"name: s{level}\nunion: [{', '.join([below] * fan_out)}]\n", "utf-8"
        )
        below = f"s{level}.yaml"
    return folder / below


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files a load reads, in order."""
    seen: list[Path] = []
    original: Callable[[Path], str] = loading._read

    def counting(path: Path) -> str:
        seen.append(path.resolve())
        return original(path)

    monkeypatch.setattr(loading, "_read", counting)
    return seen


def test_a_dag_of_1024_leaves_reads_each_file_once(tmp_path: Path, reads: list[Path]) -> None:
    """Ten levels, each naming the level below twice: 1,024 references to one leaf."""
    top = _chain(tmp_path, MAX_SET_NESTING)
    spec = idc_sql.load_spec(top)
    assert len(reads) == len(set(reads)) == MAX_SET_NESTING + 1
    node, leaves = spec, 1
    while not isinstance(node, CohortSpec):
        first, second = node.members
        assert first is second  # one object, however often it is named
        node, leaves = first, leaves * 2
    assert leaves == 1_024
    assert len(source_files(spec)) == MAX_SET_NESTING + 1
    assert len(digest(spec)) == 16


def test_both_nesting_limits_at_once_compile(tmp_path: Path) -> None:
    """The deepest sets around the deepest predicates still render within the stack."""
    deep = {"name": "deep", "where": nested("study_has", MAX_NESTING)}
    (tmp_path / "deep.json").write_text(json.dumps(deep), "utf-8")
    (tmp_path / "b.yaml").write_text("name: b\n", "utf-8")
    below = "deep.json"
    for level in range(1, MAX_SET_NESTING + 1):
        text = f"name: s{level}\nexcept: [{below}, b.yaml]\n"
        (tmp_path / f"s{level}.yaml").write_text(text, "utf-8")
        below = f"s{level}.yaml"
    spec = idc_sql.load_spec(tmp_path / below)
    for engine in ("local", "bigquery"):
        assert "EXISTS" in idc_sql.compile(spec, engine).sql


def test_sets_one_level_past_the_limit(tmp_path: Path, reads: list[Path]) -> None:
    top = _chain(tmp_path, MAX_SET_NESTING + 1)
    with pytest.raises(SpecError) as caught:
        idc_sql.load_spec(top)
    assert (caught.value.location, caught.value.message) == (
        f"{tmp_path / 's1.yaml'}: union",
        SETS_TOO_DEEP,
    )


def test_a_member_read_before_counts_its_depth_again(tmp_path: Path, reads: list[Path]) -> None:
    """A member already read, named again from deeper down, still counts its own levels."""
    _chain(tmp_path, MAX_SET_NESTING - 1)
    (tmp_path / "x.yaml").write_text(f"name: x\nunion: [s{MAX_SET_NESTING - 1}.yaml, leaf.yaml]\n")
    top = tmp_path / "top.yaml"
    top.write_text(f"name: top\nunion: [s{MAX_SET_NESTING - 1}.yaml, x.yaml]\n")
    with pytest.raises(SpecError) as caught:
        idc_sql.load_spec(top)
    assert (caught.value.location, caught.value.message) == (
        f"{(tmp_path / 'x.yaml').resolve()}: union[0]",
        SETS_TOO_DEEP,
    )
    assert len(reads) == len(set(reads))


def test_set_size_counts_each_reference(tmp_path: Path, reads: list[Path]) -> None:
    """1,024 references to a leaf of ten predicates: more than the limit, though read once."""
    leaf = "name: leaf\nwhere: {" + ", ".join(f"f{i}: {i}" for i in range(10)) + "}\n"
    top = _chain(tmp_path, MAX_SET_NESTING, leaf=leaf)
    with pytest.raises(SpecError) as caught:
        idc_sql.load_spec(top)
    assert caught.value.message == f"{TOO_MANY}, counting each member once per reference"
    assert caught.value.location.endswith(": union")
    assert len(reads) == len(set(reads))


OUTSIDE = " is outside the spec's folder (allowed with allow_outside=True)"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """inner/s.yaml names ../x.yaml and a link inside its folder that leads out."""
    (tmp_path / "x.yaml").write_text("name: x\nwhere: {Modality: CT}\n", "utf-8")
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "a.yaml").write_text("name: a\nwhere: {Modality: MR}\n", "utf-8")
    (inner / "link.yaml").symlink_to(tmp_path / "x.yaml")
    return inner


@pytest.mark.parametrize("member", ["../x.yaml", "link.yaml", "ABSOLUTE"])
def test_members_outside_the_folder(outside: Path, member: str) -> None:
    member = str(outside.parent / "x.yaml") if member == "ABSOLUTE" else member
    spec = outside / "s.yaml"
    spec.write_text(f"name: s\nunion: [a.yaml, {member}]\n", "utf-8")
    with pytest.raises(SpecError) as caught:
        idc_sql.load_spec(spec)
    assert (caught.value.location, caught.value.message) == (
        f"{spec}: union[1]",
        f"{member}{OUTSIDE}",
    )
    assert Option("allow_outside", True) in caught.value.pieces
    allowed = idc_sql.load_spec(spec, allow_outside=True)
    assert [m.name for m in allowed.members] == ["a", "x"]  # type: ignore[union-attr]


def test_parse_spec_keeps_members_in_its_folder(outside: Path) -> None:
    data = {"name": "s", "union": ["a.yaml", "../x.yaml"]}
    with pytest.raises(SpecError) as caught:
        idc_sql.parse_spec(data, base_dir=outside)
    assert caught.value.message == f"../x.yaml{OUTSIDE}"
    spec = idc_sql.parse_spec(data, base_dir=outside, allow_outside=True)
    assert len(spec.members) == 2  # type: ignore[union-attr]


def test_subfolders_are_inside(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.yaml").write_text("name: a\n", "utf-8")
    (tmp_path / "b.yaml").write_text("name: b\n", "utf-8")
    (tmp_path / "s.yaml").write_text("name: s\nunion: [sub/a.yaml, sub/../b.yaml]\n", "utf-8")
    assert len(idc_sql.load_spec(tmp_path / "s.yaml").members) == 2  # type: ignore[union-attr]


# ----------------------------------------------------------------------------- control characters


CONTROL = {
    "newline-key": ({"name": "x", "wher\ne": 1}, "wher\\ne", "unknown key 'wher\\ne'"),
    "u2028-in-predicate": (
        {"name": "x", "where": {"al\u2028l": [{"Modality": "CT"}]}},
        "where.al\\u2028l",
        None,
    ),
    "nul-in-node-keys": (
        {"name": "x", "where": {"not": {"Modality": "CT"}, "\x00": 1}},
        "where",
        "a predicate has exactly one of all, any, not, study_has, patient_has, segmented_by, "
        "segments and nothing beside it; got keys not, \\x00",
    ),
    "rtl-override": ({"name": "x\u202e"}, "name", "name 'x\\u202e' must match"),
}


@pytest.mark.parametrize("case", list(CONTROL))
def test_control_characters_are_escaped_in_parse_errors(case: str) -> None:
    data, location, message = CONTROL[case]
    error = refused(data)
    assert error.location == location
    if message is not None:
        assert error.message.startswith(message)
    assert str(error).isprintable()


@pytest.mark.parametrize("name", ["Moda\nlity", "Moda\x00lity", "Moda\u2028lity", "Mod\tality"])
def test_control_characters_are_escaped_in_plan_errors(name: str) -> None:
    with pytest.raises(SpecError) as caught:
        idc_sql.compile({"name": "x", "where": {"not": {name: "CT"}}})
    escaped = name.encode("unicode_escape").decode("ascii")
    assert caught.value.location == f"where.not.{escaped}"
    assert str(caught.value).isprintable()


def test_control_characters_in_a_file_name(tmp_path: Path) -> None:
    path = tmp_path / "a\nb\u2028.yaml"
    path.write_text("name: x\nwhere: {Modality: []}\n", "utf-8")
    with pytest.raises(SpecError) as caught:
        idc_sql.load_spec(path)
    assert caught.value.location == f"{tmp_path}/a\\nb\\u2028.yaml: where.Modality"
    assert str(caught.value).isprintable()


def test_docs_name_every_limit_with_its_value() -> None:
    """docs/limits.md names each constant, and the value it has."""
    from idc_sql.engines.bigquery import params
    from idc_sql.spec import limits

    text = (Path(__file__).resolve().parent.parent / "docs" / "limits.md").read_text()
    constants = {
        **{n: getattr(limits, n) for n in dir(limits) if n.startswith("MAX_")},
        **{n: getattr(params, n) for n in dir(params) if n.startswith("MAX_")},
    }
    assert len(constants) == 12
    for name, value in constants.items():
        assert f"`{name}`" in text, name
        shown = f"{value // 2**20} MiB" if name.endswith("_BYTES") and value % 2**20 == 0 else ""
        assert f"| {value:,} " in text or f"| {shown} |" in text, name
