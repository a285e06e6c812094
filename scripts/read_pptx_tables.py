#!/usr/bin/env python3
"""Read every native table of a dannscope deck back with python-pptx and check it against results.csv.

    python3 scripts/read_pptx_tables.py outputs/report/report.pptx outputs/report/results.csv

Every table of the deck is a graphic frame whose name says what it holds:
  "Study table: <caption>"     model blocks (accuracy / AUROC lines, %), one column per pair, average
  "Effect table"               adapted run against the source-only baseline of its pair
  "Cohesion table"             one row per run, one column per cohesion measure
  "Key numbers: <label> (<pair>)"    per-domain n, accuracy and AUROC of one run
  "Pair measures: <label> (<pair>)"  that run's proxy A-distance, RBF MMD², kNN transfer accuracy (± half-width)
Measure headers show display names; the report's glossary.csv (next to results.csv) maps them to keys.
Each number shown is recomputed from results.csv (independently of the Rust code: rows are looked up by
model label, pair, domain and measure; the target domain of a run is the second domain it lists, as
results.csv lists the source domain's rows first) and formatted as the deck does (fixed decimals, "—" when
missing). The columns that results.csv does not hold (the effect table's kNN class agreement and class
counts) are counted as not checked. Exit status 0 when every checked cell matches, 1 otherwise; the last
line of the output is "checked N cells in T tables (S cells not in results.csv)".
"""

import csv
import os
import math
import sys

from pptx import Presentation

MISSING = "—"


def fmt(v, decimals):
    """A number as the report shows it: fixed decimals, no sign on a rounded zero, MISSING when absent."""
    if v is None or not math.isfinite(v):
        return MISSING
    s = f"{v:.{decimals}f}"
    if s.startswith("-") and set(s[1:]) <= set("0."):
        s = s[1:]
    return s


def half_width(lo, hi, decimals):
    """An interval's half-width as the cohesion tables write it: two significant digits, at least
    `decimals` decimals."""
    h = (hi - lo) / 2.0
    if not (math.isfinite(h) and h > 0.0):
        return fmt(max(h, 0.0), decimals)
    digits = min(max(1 - math.floor(math.log10(h)), decimals), 9)
    return f"{h:.{digits}f}"


def signed(v, decimals):
    """A difference in points as the verdicts and the effect table write it: +8.5, −11.5, 0.0."""
    s = fmt(v, decimals)
    if s == MISSING or set(s) <= set("0."):
        return s
    return "−" + s[1:] if s.startswith("-") else "+" + s


def load_results(path):
    """(model, pair) -> {"domains": [source, target], "values": {(domain, metric): float or None}}."""
    runs = {}
    with open(path, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            d = runs.setdefault((r["model"], r["pair"]), {"domains": [], "values": {}})
            if r["domain"] != "pair" and r["domain"] not in d["domains"]:
                d["domains"].append(r["domain"])
            d["values"][(r["domain"], r["metric"])] = float(r["value"]) if r["value"] else None
    return runs


def code(pair_text):
    return pair_text.replace("→", "-")


class Checker:
    def __init__(self, results, keys):
        self.results = results
        # Display name -> key, from the report's glossary.csv.
        self.keys = keys
        self.checked = 0
        self.unchecked = 0
        self.errors = []
        self.effect_baselines = []

    def value(self, model, pair, domain, metric):
        run = self.results.get((model, pair))
        if run is None:
            return None
        if domain == "target":
            if not run["domains"]:
                return None
            domain = run["domains"][-1]
        return run["values"].get((domain, metric))

    def expect(self, where, shown, want):
        self.checked += 1
        if shown != want:
            self.errors.append(f"{where}: deck shows {shown!r}, results.csv gives {want!r}")

    def study(self, name, rows):
        header = rows[0]
        pairs = [code(p) for p in header[2:-1]]
        model = None
        for i, row in enumerate(rows[1:], 1):
            if row[0]:
                # python-pptx gives a line break inside a paragraph as "\v".
                model = row[0].replace("\v", "\n").split("\n")[0]
            metric = {"Accuracy": "accuracy", "AUROC": "auroc"}[row[1]]
            vals = []
            for j, p in enumerate(pairs):
                v = self.value(model, p, "target", metric)
                v = None if v is None else v * 100.0
                vals.append(v)
                # The value, then (second line) its bootstrap interval with one decimal.
                shown = row[2 + j].replace("\v", "\n").split("\n")
                self.expect(f"{name} row {i} ({model}, {metric}) {p}", shown[0], fmt(v, 2))
                lo = self.value(model, p, "target", f"{metric}_ci_low")
                hi = self.value(model, p, "target", f"{metric}_ci_high")
                if v is not None and lo is not None and hi is not None:
                    want = f"[{lo * 100.0:.1f}, {hi * 100.0:.1f}]"
                    self.expect(f"{name} row {i} ({model}, {metric}) {p} interval",
                                shown[1] if len(shown) > 1 else "", want)
            avg = None
            if vals and all(v is not None for v in vals):
                total = 0.0
                for v in vals:
                    total += v
                avg = total / len(vals)
            self.expect(f"{name} row {i} ({model}, {metric}) average", row[-1], fmt(avg, 2))

    def effect(self, name, rows):
        header = rows[0]
        col = {h: k for k, h in enumerate(header)}
        if "Source-only baseline" in col:
            self.effect_baselines = [row[col["Source-only baseline"]] for row in rows[1:]]
        for i, row in enumerate(rows[1:], 1):
            p = code(row[col["Pair"]])
            a = row[col["Adapted model"]]
            if "Source-only baseline" in col:
                b = row[col["Source-only baseline"]]
            else:
                # The alignment half follows the accuracy half of the same rows on its slide.
                b = self.effect_baselines[i - 1] if i - 1 < len(self.effect_baselines) else None
            where = f"{name} row {i} ({a}, {p})"
            acc_a = self.value(a, p, "target", "accuracy")
            acc_b = self.value(b, p, "target", "accuracy") if b else None
            acc_a = None if acc_a is None else acc_a * 100.0
            acc_b = None if acc_b is None else acc_b * 100.0
            checks = [
                ("Target acc. adapted (%)", fmt(acc_a, 2)),
                ("Target acc. source only (%)", fmt(acc_b, 2)),
                ("Δ target acc. (points)", signed(None if acc_a is None or acc_b is None else acc_a - acc_b, 1)),
            ]
            for metric, label in (("proxy_a_distance", "A-distance"), ("mmd2_rbf", "MMD²")):
                for who, side in ((a, "adapted"), (b, "source only")):
                    checks.append((f"{label} {side}", fmt(self.value(who, p, "pair", metric) if who else None, 3)))
            for header_text, want in checks:
                if header_text in col:
                    self.expect(f"{where} {header_text}", row[col[header_text]], want)
            # The paired interval and McNemar p come from the comparison file, not results.csv.
            self.unchecked += sum(1 for h in col if h.startswith("Same-class source neighbours") or h.startswith("Classes")
                                  or h in ("Interval of Δ", "McNemar p"))

    def measures(self, name, header, row, model, pair, first, intervals=False):
        for j, h in enumerate(header[first:], first):
            metric = self.keys.get(h, h.replace(" ", "_"))
            where = f"{name} ({model}, {pair}) {metric}"
            # The value, then (second line, where the measure has an interval) ± its half-width.
            shown = row[j].replace("\v", "\n").split("\n")
            self.expect(where, shown[0], fmt(self.value(model, pair, "pair", metric), 3))
            lo = self.value(model, pair, "pair", f"{metric}_ci_low")
            hi = self.value(model, pair, "pair", f"{metric}_ci_high")
            if intervals and lo is not None and hi is not None:
                self.expect(f"{where} interval", shown[1] if len(shown) > 1 else "",
                            "± " + half_width(lo, hi, 3))
            elif len(shown) > 1:
                self.expect(f"{where} interval", shown[1], "(none in results.csv)")

    def cohesion(self, name, rows):
        for row in rows[1:]:
            self.measures(name, rows[0], row, row[0], code(row[1]), 2, intervals=True)

    def key_numbers(self, name, rows, model, pair):
        for row in rows[1:]:
            domain = row[0]
            n = self.value(model, pair, domain, "n")
            self.expect(f"{name} {domain} n", row[2], MISSING if n is None else str(int(n)))
            for j, metric in ((3, "accuracy"), (4, "auroc")):
                v = self.value(model, pair, domain, metric)
                self.expect(f"{name} {domain} {metric}", row[j], fmt(None if v is None else v * 100.0, 2))


def run_key(name):
    label, pair = name.split(": ", 1)[1].rsplit(" (", 1)
    return label, pair.rstrip(")")


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    deck, results = argv[1], argv[2]
    glossary = os.path.join(os.path.dirname(results), "glossary.csv")
    with open(glossary, newline="", encoding="utf-8") as f:
        keys = {r["name"]: r["key"] for r in csv.DictReader(f)}
    checker = Checker(load_results(results), keys)
    tables = 0
    for n, slide in enumerate(Presentation(deck).slides, 1):
        for shape in slide.shapes:
            if not shape.has_table:
                continue
            tables += 1
            rows = [[c.text for c in r.cells] for r in shape.table.rows]
            name = f"slide {n} {shape.name!r}"
            if shape.name.startswith("Study table: "):
                checker.study(name, rows)
            elif shape.name == "Effect table":
                checker.effect(name, rows)
            elif shape.name == "Cohesion table":
                checker.cohesion(name, rows)
            elif shape.name.startswith("Key numbers: "):
                checker.key_numbers(name, rows, *run_key(shape.name))
            elif shape.name.startswith("Pair measures: "):
                model, pair = run_key(shape.name)
                checker.measures(name, rows[0], rows[1], model, pair, 0, intervals=True)
            else:
                checker.errors.append(f"{name}: a table this script does not know")
    for e in checker.errors:
        print(e)
    print(f"checked {checker.checked} cells in {tables} tables ({checker.unchecked} cells not in results.csv)")
    return 1 if checker.errors or tables == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
