"""YAML loading for specifications: safe, bounded, fast (libyaml when present).

The document is built from the parser's events in one loop over an explicit stack, never by
recursion, so nesting costs no Python stack; every limit is checked as the events arrive,
before the work it would bound is done:

- lists and mappings nest at most ``max_nesting`` levels;
- aliases (``*name``) are at most ``max_aliases``, and together stand for at most
  ``max_expansion`` nodes (counted as if each alias were a copy of its anchor), so an alias
  bomb is refused at the alias that crosses the limit, before anything is expanded;
- a list holds at most ``max_list`` items.

An alias shares the object built for its anchor, as PyYAML does. Duplicate keys are refused.
Merge keys (``<<: *base``, or ``<<: [*a, *b]``) work as in YAML 1.1: the mapping's own keys
win over merged ones, and earlier merged mappings over later ones.

>>> load_yaml("base: &b {Modality: CT}\\nwhere: {<<: *b, PatientSex: F}\\n")["where"]
{'Modality': 'CT', 'PatientSex': 'F'}
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import yaml

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_PREFIX = "tag:yaml.org,2002:"
_MAP, _SEQ, _STR, _MERGE = (f"{_PREFIX}{t}" for t in ("map", "seq", "str", "merge"))
#: scalar tags and how they are built (SafeConstructor's own constructors, by name)
_SCALARS = {
    f"{_PREFIX}{t}": f"construct_yaml_{t}" for t in ("bool", "int", "float", "null", "timestamp")
}


class YamlError(Exception):
    """Malformed YAML (``limit`` false) or a document past a limit (``limit`` true)."""

    def __init__(self, position: str, problem: str, *, limit: bool = False) -> None:
        super().__init__(problem)
        self.position = position
        self.problem = problem
        self.limit = limit


@dataclass(frozen=True)
class Limits:
    """What a document may hold (see ``idc_sql.spec.limits``)."""

    max_nesting: int
    max_aliases: int
    max_expansion: int
    max_list: int


_NO_LIMITS = Limits(2**63, 2**63, 2**63, 2**63)


@dataclass
class _Open:
    """A list or mapping being built: its items so far and what they count."""

    value: list[Any] | dict[Any, Any]
    anchor: str | None
    size: int = 1  # nodes, aliases counted as copies of their anchors
    key: Any = None
    key_mark: Any = None
    has_key: bool = False
    merges: list[tuple[Any, Any]] = field(default_factory=list)


class _Loader(_Base):  # type: ignore[misc]  # libyaml's loader when present
    pass


def _position(mark: Any) -> str:
    return f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""


def load_yaml(text: str, limits: Limits = _NO_LIMITS) -> Any:
    """The one document in ``text`` (None when empty); a YamlError when malformed or too big."""
    loader = _Loader(text)
    try:
        return _Builder(loader, limits).document()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        raise YamlError(_position(mark), e.problem or str(e)) from e
    except yaml.reader.ReaderError as e:  # a character YAML does not allow: no mark, an offset
        line = text.count("\n", 0, e.position)
        column = e.position - (text.rfind("\n", 0, e.position) + 1)
        character = chr(e.character) if isinstance(e.character, int) else str(e.character)
        raise YamlError(f":{line + 1}:{column + 1}", f"{e.reason}: {character!r}") from e
    except yaml.YAMLError as e:
        raise YamlError("", str(e)) from e
    finally:
        loader.dispose()


class _Builder:
    def __init__(self, loader: Any, limits: Limits) -> None:
        self.loader = loader
        self.limits = limits
        self.anchors: dict[str, tuple[Any, int]] = {}  # name -> (value, size)
        self.aliases = 0
        self.expansion = 0

    def document(self) -> Any:
        loader = self.loader
        loader.get_event()  # stream start
        if loader.check_event(yaml.StreamEndEvent):
            return None
        loader.get_event()  # document start
        value = self.node()
        loader.get_event()  # document end
        if not loader.check_event(yaml.StreamEndEvent):
            mark = loader.peek_event().start_mark
            raise YamlError(_position(mark), "expected one document, found another")
        return value

    def node(self) -> Any:
        """The next node: one loop over the events, an explicit stack of open collections."""
        stack: list[_Open] = []
        while True:
            event = self.loader.get_event()
            if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                is_map = isinstance(event, yaml.MappingStartEvent)
                self._tag(event, yaml.MappingNode if is_map else yaml.SequenceNode)
                if len(stack) >= self.limits.max_nesting:
                    raise self._limit(
                        event.start_mark,
                        "lists and mappings nested deeper than the limit of "
                        f"{self.limits.max_nesting} levels",
                    )
                stack.append(_Open({} if is_map else [], event.anchor))
                continue
            if isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                done = stack.pop()
                value, size, anchor = self._close(done), done.size, done.anchor
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor not in self.anchors:
                    inside = any(o.anchor == event.anchor for o in stack)
                    problem = "refers to a node that contains it" if inside else "is not defined"
                    raise YamlError(
                        _position(event.start_mark), f"the alias {event.anchor!r} {problem}"
                    )
                value, size = self.anchors[event.anchor]
                anchor = None
                self._count_alias(size, event.start_mark)
            else:
                value, size, anchor = self._scalar(event), 1, event.anchor
            if anchor is not None:
                if anchor in self.anchors:
                    raise YamlError(
                        _position(event.start_mark), f"found duplicate anchor {anchor!r}"
                    )
                self.anchors[anchor] = (value, size)
            if not stack:
                return "<<" if value is _Merge else value
            self._add(stack[-1], value, size, event)

    def _tag(self, event: Any, kind: type[yaml.Node]) -> str:
        tag: str | None = event.tag
        if tag is None or tag == "!":
            value = event.value if kind is yaml.ScalarNode else None
            tag = self.loader.resolve(kind, value, event.implicit)
        expected = {yaml.ScalarNode: None, yaml.MappingNode: _MAP, yaml.SequenceNode: _SEQ}[kind]
        allowed = tag == expected if expected else tag in (_STR, _MERGE) or tag in _SCALARS
        if not allowed:
            raise YamlError(_position(event.start_mark), f"the tag {tag!r} is not supported")
        return str(tag)

    def _scalar(self, event: Any) -> Any:
        tag = self._tag(event, yaml.ScalarNode)
        if tag == _STR:
            return event.value
        if tag == _MERGE:
            return _Merge
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        return getattr(self.loader, _SCALARS[tag])(node)

    def _count_alias(self, size: int, mark: Any) -> None:
        self.aliases += 1
        self.expansion += size
        if self.aliases > self.limits.max_aliases:
            raise self._limit(mark, f"more aliases than the limit of {self.limits.max_aliases:,}")
        if self.expansion > self.limits.max_expansion:
            raise self._limit(
                mark,
                f"aliases stand for more nodes than the limit of {self.limits.max_expansion:,}",
            )

    def _limit(self, mark: Any, problem: str) -> YamlError:
        return YamlError(_position(mark), problem, limit=True)

    def _add(self, parent: _Open, value: Any, size: int, event: Any) -> None:
        parent.size += size
        if value is _Merge and (parent.has_key or isinstance(parent.value, list)):
            value = "<<"  # a merge only as a key; elsewhere, the text it is
        if isinstance(parent.value, list):
            parent.value.append(value)
            if len(parent.value) > self.limits.max_list:
                raise self._limit(
                    event.start_mark,
                    f"more values than the limit of {self.limits.max_list:,} in one list",
                )
            return
        if not parent.has_key:
            if not isinstance(value, Hashable):
                raise YamlError(_position(event.start_mark), "a mapping key must be a scalar")
            if value is not _Merge and value in parent.value:
                raise YamlError(_position(event.start_mark), f"duplicate key {value!r}")
            parent.key, parent.key_mark, parent.has_key = value, event.start_mark, True
            return
        parent.has_key = False
        if parent.key is not _Merge:
            parent.value[parent.key] = value
        elif parent.merges:
            raise YamlError(_position(parent.key_mark), "duplicate key '<<'")
        else:
            parent.merges.append((value, parent.key_mark))

    def _close(self, done: _Open) -> Any:
        if not done.merges:
            return done.value
        merged, mark = done.merges[0]
        sources = merged if isinstance(merged, list) else [merged]
        if not all(isinstance(s, dict) for s in sources):
            raise YamlError(
                _position(mark), "a merge key (<<) takes a mapping or a list of mappings"
            )
        out: dict[Any, Any] = {}
        for source in reversed(sources):  # earlier mappings win over later ones
            out.update(source)
        assert isinstance(done.value, dict)
        out.update(done.value)  # and the mapping's own keys over all of them
        return out


class _MergeKey:
    def __repr__(self) -> str:
        return "'<<'"


_Merge: Any = _MergeKey()
