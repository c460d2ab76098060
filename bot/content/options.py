"""Reading a question's answer options, with their labels, aliases and PZP answer codes.

Choice, multi and person questions list their own options; a yesno question always has the
same three, which `options` may only relabel or give PZP codes. Other types take none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.content.fields import FieldReader
from bot.content.model import Option, PzpCode, QuestionType, Text
from bot.content.yaml_lines import LineDict, LineList

YESNO_OPTIONS = ("ja", "nee", "weet_niet")
YESNO_LABELS = {"ja": "Ja", "nee": "Nee", "weet_niet": "Weet ik nog niet"}
OPTION_KEYS = {"id", "label", "aliases", "pzp"}


def read_options(
    fields: FieldReader,
    path: Path,
    raw: LineDict,
    kind: QuestionType,
    question_id: str,
    ctx: str,
) -> tuple[Option, ...]:
    """The options of question `raw` (read from `path`); `ctx` is the question's text context."""
    raw_options = raw.get("options")
    needs_options = kind in (QuestionType.CHOICE, QuestionType.MULTI, QuestionType.PERSON)
    line = raw.line_of("options")
    if kind is QuestionType.YESNO:
        return _yesno_options(fields, path, raw_options, question_id, ctx, line)
    if raw_options is None:
        if needs_options:
            fields.problem(path, raw.line, f"question '{question_id}' needs a list of options")
        return ()
    if not needs_options:
        fields.problem(path, line, f"question '{question_id}' ({kind}) takes no options")
        return ()
    if not isinstance(raw_options, LineList) or len(raw_options) < 2:
        fields.problem(path, line, f"question '{question_id}' needs at least two options")
        return ()
    result: list[Option] = []
    seen: set[str] = set()
    for index, item in enumerate(raw_options):
        item_line = raw_options.item_lines[index]
        if not isinstance(item, LineDict):
            fields.problem(path, item_line, "an option must be a mapping with id and label")
            continue
        fields.unknown_keys(path, item, OPTION_KEYS, "option")
        option_id = fields.ident(path, item, "id", "option")
        if option_id is None:
            continue
        if option_id in seen:
            fields.problem(path, item_line, f"option id '{option_id}' appears twice")
        seen.add(option_id)
        label = fields.text(
            path, item, "label", f"{ctx}.option.{option_id}", required=True, what=option_id
        )
        aliases = fields.text(path, item, "aliases", f"{ctx}.option.{option_id}.aliases")
        pzp = _pzp_code(fields, path, item)
        if label is not None:
            result.append(
                Option(
                    id=option_id,
                    label=label,
                    aliases=(aliases,) if aliases else (),
                    pzp=pzp,
                    line=item_line,
                )
            )
    return tuple(result)


def _yesno_options(
    fields: FieldReader, path: Path, raw_options: Any, question_id: str, ctx: str, line: int
) -> tuple[Option, ...]:
    """Yes/no/not sure yet; `options` may attach PZP codes to those three, or give one
    another label (a factual question reads better with "Weet ik niet")."""
    codes: dict[str, PzpCode | None] = dict.fromkeys(YESNO_OPTIONS)
    labels = {o: Text(f"yesno.{o}", YESNO_LABELS[o]) for o in YESNO_OPTIONS}
    if raw_options is not None:
        if not isinstance(raw_options, LineList):
            fields.problem(path, line, "options of a yesno question must be a list")
        else:
            for index, item in enumerate(raw_options):
                item_line = raw_options.item_lines[index]
                if not isinstance(item, LineDict) or item.get("id") not in YESNO_OPTIONS:
                    fields.problem(
                        path,
                        item_line,
                        f"question '{question_id}': a yesno option id is one of "
                        + ", ".join(YESNO_OPTIONS),
                    )
                    continue
                fields.unknown_keys(path, item, {"id", "pzp", "label"}, "yesno option")
                codes[item["id"]] = _pzp_code(fields, path, item)
                label = fields.text(path, item, "label", f"{ctx}.option.{item['id']}")
                if label is not None:
                    labels[item["id"]] = label
    return tuple(Option(id=o, label=labels[o], pzp=codes[o]) for o in YESNO_OPTIONS)


def _pzp_code(fields: FieldReader, path: Path, raw: LineDict) -> PzpCode | None:
    """An option's `pzp`: the answer code on the PZP form, bare or as `{code, system}`."""
    value = raw.get("pzp")
    if value is None:
        return None
    if isinstance(value, int | str) and str(value).strip():
        return PzpCode(code=str(value))
    if isinstance(value, LineDict) and isinstance(value.get("code"), int | str):
        system = value.get("system")
        return PzpCode(code=str(value["code"]), system=system)
    fields.problem(path, raw.line_of("pzp"), "an option's pzp is an answer code")
    return None
