"""The precision ladder shared by the gazetteer, the geocoder, the atlas and the maps.

From best to worst.  A feature's ``precision`` says how well its *position* is known,
not how sure we are that the name refers to it (that is ``confidence``).

exact         the named thing's own geometry from a source (a metro station, an OSM
              substation, a POI or stop bearing the name, a user override)
intersection  the crossing of two named roads (from stop names and "A与B交叉口" addresses)
road          on the named road's derived line (or the part between two crossings)
nearby        anchored on a nearby named feature that is not the thing itself
community     only the containing community / village is known
subdistrict   only the 街道 is known (its derived polygon)
district      only the district is known
"""
from __future__ import annotations

PRECISION_LADDER: tuple[str, ...] = (
    "exact",
    "intersection",
    "road",
    "nearby",
    "community",
    "subdistrict",
    "district",
)

#: precisions drawn as approximate on the maps (dashed outline, uncertainty circle)
APPROXIMATE: frozenset[str] = frozenset({"nearby", "community", "subdistrict", "district"})

PRECISION_LABELS_ZH: dict[str, str] = {
    "exact": "精确",
    "intersection": "路口",
    "road": "道路",
    "nearby": "附近",
    "community": "社区/村",
    "subdistrict": "街道",
    "district": "区",
}


def rank(precision: str | None) -> int:
    """Position on the ladder (0 = best); unknown or missing sorts last."""
    try:
        return PRECISION_LADDER.index(precision)  # type: ignore[arg-type]
    except ValueError:
        return len(PRECISION_LADDER)
