"""Geocoding speed: queries/s of reportatlas.geocode.Geocoder, cold and warm, vs a hand-made lookup.

10,000 queries (seeded) drawn from the gazetteer itself: ~60 % names and aliases of its
entries, ~30 % addresses made of its road names ("A路与B路交叉口", "A路123号"), ~10 %
names it does not know.  Timed:

- cold: ``Geocoder(gazetteer)`` (index build) + the 10k queries;
- warm: the same Geocoder on another 10k queries from the same mix;
- repeat: the first 10k again (the Geocoder memoises answers).

The peer is what a user would write by hand with geopandas and shapely: a dict from every
name and alias to its entry, and for "A与B交叉口" the intersection of the two road lines.
It resolves fewer queries; the table shows how many each one resolved.  The gazetteer is
the committed one (``gazetteer.load()``); the figure says so if it does not exist yet.

    python benchmarks/bench_geocode_speed.py -n 10000
"""
from __future__ import annotations

import argparse
import random
import re

from _harness import Figure, fmt_ratio, fmt_s, log, md_table, missing_module, once

CROSSING = re.compile(r"^(.+?[路街道])与(.+?[路街道])(?:交叉口|交口|路口)")
NUMBERED = re.compile(r"^(.+?[路街道])\d+号$")


def make_queries(entries, n: int, *, seed: int) -> list[str]:
    rng = random.Random(seed)
    names = sorted({str(x) for x in entries["name"] if isinstance(x, str) and x})
    aliases = sorted({a for v in entries.get("aliases", []) if isinstance(v, str) for a in v.split("|") if a})
    roads = sorted({str(x) for x in entries.loc[entries["kind"] == "road", "name"]}) or ["中原路", "桐柏路"]
    unknown = [f"{rng.choice('东西南北新老')}{rng.choice(['华府', '名苑', '科技园', '商务港'])}{i}" for i in range(50)]
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.5:
            out.append(rng.choice(names))
        elif r < 0.6:
            out.append(rng.choice(aliases or names))
        elif r < 0.8:
            a, b = rng.sample(roads, 2) if len(roads) > 1 else (roads[0], roads[0])
            out.append(f"{a}与{b}交叉口")
        elif r < 0.9:
            out.append(f"{rng.choice(roads)}{rng.randint(1, 400)}号")
        else:
            out.append(rng.choice(unknown))
    return out


class HandLookup:
    """The peer: exact names/aliases in a dict; crossings by intersecting two road lines."""

    def __init__(self, entries):
        self.by_name: dict[str, object] = {}
        for name, aliases, geom in zip(entries["name"], entries.get("aliases", [""] * len(entries)), entries.geometry):
            for key in [name, *(aliases.split("|") if isinstance(aliases, str) else [])]:
                if key and geom is not None and key not in self.by_name:
                    self.by_name[key] = geom

    def geocode(self, query: str):
        if query in self.by_name:
            return self.by_name[query].representative_point()
        m = CROSSING.match(query)
        if m and m.group(1) in self.by_name and m.group(2) in self.by_name:
            hit = self.by_name[m.group(1)].intersection(self.by_name[m.group(2)])
            return None if hit.is_empty else hit.representative_point()
        m = NUMBERED.match(query)
        if m and m.group(1) in self.by_name:
            return self.by_name[m.group(1)].representative_point()
        return None


def run(*, quick: bool = False, n: int | None = None, seed: int = 3) -> Figure:
    n = n or (1_000 if quick else 10_000)
    fig = Figure("geocoding_speed", "Geocoding speed")
    missing = missing_module("geocode") or missing_module("gazetteer")
    gaz = None
    if missing is None:
        from reportatlas import gazetteer
        try:
            gaz = gazetteer.load()
        except Exception as exc:  # noqa: BLE001 - reported in the figure
            missing = f"no committed gazetteer ({exc})"
    if gaz is None:
        fig.markdown = f"**Not measured:** {missing}."
        return fig
    from reportatlas.geocode import Geocoder

    entries = gaz.entries
    first, second = make_queries(entries, n, seed=seed), make_queries(entries, n, seed=seed + 1)
    log(f"geocoding: {n:,} queries, {len(entries):,} gazetteer entries")

    def cold():
        geocoder = Geocoder(gaz, overrides=[])
        return geocoder, geocoder.geocode_many(first)
    cold_s, (geocoder, results) = once(cold)
    warm_s, warm_results = once(lambda: geocoder.geocode_many(second))
    repeat_s, _ = once(lambda: geocoder.geocode_many(first))
    build_s, _ = once(lambda: Geocoder(gaz, overrides=[]))

    peer_build_s, peer = once(lambda: HandLookup(entries))
    peer_s, peer_results = once(lambda: [peer.geocode(q) for q in second])

    def ok(rs):
        return sum(1 for r in rs if getattr(r, "status", "ok" if r is not None else None) == "ok") / len(rs)

    rows = [
        {"run": "cold (new Geocoder + queries)", "time": fmt_s(cold_s), "queries/s": f"{n / cold_s:,.0f}",
         "resolved": f"{ok(results):.0%}", "vs hand lookup": "–"},
        {"run": "warm (other queries)", "time": fmt_s(warm_s), "queries/s": f"{n / warm_s:,.0f}",
         "resolved": f"{ok(warm_results):.0%}", "vs hand lookup": fmt_ratio(warm_s, peer_s)},
        {"run": "repeat (memoised)", "time": fmt_s(repeat_s), "queries/s": f"{n / repeat_s:,.0f}",
         "resolved": f"{ok(results):.0%}", "vs hand lookup": fmt_ratio(repeat_s, peer_s)},
        {"run": "hand lookup (dict + shapely), warm", "time": fmt_s(peer_s), "queries/s": f"{n / peer_s:,.0f}",
         "resolved": f"{ok(peer_results):.0%}", "vs hand lookup": "1.0×"},
    ]
    fig.data = {"n": n, "entries": len(entries), "cold_s": cold_s, "warm_s": warm_s, "repeat_s": repeat_s,
                "geocoder_build_s": build_s, "peer_build_s": peer_build_s, "peer_s": peer_s,
                "resolved": ok(results), "peer_resolved": ok(peer_results)}
    notes = [f"{n:,} queries: 50 % names, 10 % aliases, 20 % crossings, 10 % numbered addresses, 10 % unknown; "
             f"{len(entries):,} gazetteer entries. Geocoder construction alone: {fmt_s(build_s)}; "
             f"the hand lookup's dict: {fmt_s(peer_build_s)}.",
             "warm = a second seeded draw from the same pools, so the names it shares with the first draw are answered from the memo. vs hand lookup = its time ÷ ours on the same queries (> 1: we are faster). The hand lookup answers only "
             "exact names and crossings of two road lines that touch; ours ranks candidates, uses context, aliases, "
             "crossings from stop names and POI addresses."]
    fig.markdown = md_table(rows, ["run", "time", "queries/s", "resolved", "vs hand lookup"]) + "\n\n" + \
        "\n".join(f"- {x}" for x in notes)
    return fig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="geocoding queries/s, cold and warm")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("-n", type=int)
    args = parser.parse_args(argv)
    fig = run(quick=args.quick, n=args.n)
    print(fig.markdown)
    log(f"saved {fig.save()}")


if __name__ == "__main__":
    main()
