"""Where an answer belongs on the national PZP form ("Uniform vastleggen proactieve
zorgplanning", IKNL; Questionnaire ACP-zib2020, version 0.1.3-beta3).

Only the numbering is kept here: which linkIds sit in which numbered part of the form, so a
professional reads "PZP 4a" (reanimatie) instead of a bare linkId.
"""

from __future__ import annotations

from functools import cache

PZP_QUESTIONNAIRE = "https://fhir.iknl.nl/fhir/Questionnaire/ACP-zib2020"

# Part of the form -> the linkIds in it (groups and items), from the published JSON.
PARTS: dict[str, str] = {
    "1": "26 1406 1407 29",
    "1a": "30 973 974 975",
    "1b": "39 40 976 977 978 979 41 980 981",
    "1c": "982 411 983 408",
    "1d": "984",
    "1e": "53 985 986 987",
    "1f": "61 62 988 989 990 991 66 992 993",
    "1g": "995 412",
    "2": "78 82 997 414 998 413",
    "3": "586 1408 999",
    "4": "83",
    "4a": "1409 1410 1386 1001 1002",
    "4b": "1411 1412 1387 1388 1389",
    "4c": "1413 1414 1390 1391 1392",
    "4d": "1415 1416 1393 1394 1395",
    "4e": "1417 1418 1396 1397 1398",
    "4f": "1419 1420 1399 1400 1401",
    "4g": "1421 1422 1402 1404",
    "4h": "1006 1008 1009",
    "4i": "1425 1426 1005 1010",
    "5": "107",
    "5a": "1427 1428 1190",
    "5b": "1429 1430 1191 1192",
    "5c": "1431 1432 1193 1194",
    "5d": "1433 1434 1435",
    "6": "598 1436 1196",
    "7": "115",
    "7a": "1197 1198",
    "7b": "1199",
    "8": "119",
    "8a": "1200",
    "8b": "1201",
}


@cache
def _part_by_link() -> dict[str, str]:
    return {link: part for part, links in PARTS.items() for link in links.split()}


def form_part(link_id: str | None) -> str | None:
    """ "4a" for reanimatie's linkIds; None when the linkId is not on the national form."""
    return _part_by_link().get(link_id) if link_id else None


def on_form(link_id: str | None) -> bool:
    return form_part(link_id) is not None
