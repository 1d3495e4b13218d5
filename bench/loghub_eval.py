"""Grouping accuracy of ``message_template`` on the Loghub-2k corpus, and its speed.

usage: python bench/loghub_eval.py [CORPUS_DIR] [--strategy fp1|fp2] [--diag DATASET ...]

Group key = service (``resource.labels.job``) + template of ``textPayload``. Writes the
predictions next to nothing shared (a temporary file), runs the corpus scorer, prints the
per-dataset GA, the mean, and the microseconds per line of ``message_template``.
With ``--diag``, prints for the named datasets the true groups that were split and the
predicted groups that merge several true groups.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.fingerprint.fp1 import template as fp1_template
from bot.fingerprint.fp2 import template as fp2_template

TEMPLATES = {"fp1": fp1_template.message_template, "fp2": fp2_template.message_template}
message_template = TEMPLATES["fp2"]

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "loghub2k"
SEP = "\x1f"


def _load(corpus: Path) -> list[tuple[str, str, str]]:
    rows = []
    with (corpus / "entries.jsonl").open(encoding="utf-8") as f:
        for line in f:
            entry = json.loads(line)
            rows.append(
                (entry["insertId"], entry["resource"]["labels"]["job"], entry["textPayload"])
            )
    return rows


def _timing(rows: list[tuple[str, str, str]], raw: list[str]) -> tuple[float, float]:
    """(µs per message_template call, µs per entry for JSON parse + template)."""
    texts = [text for _, _, text in rows]
    best_tpl = best_all = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for text in texts:
            message_template(text)
        best_tpl = min(best_tpl, time.perf_counter() - start)
        start = time.perf_counter()
        for line in raw:
            entry = json.loads(line)
            _ = entry["resource"]["labels"]["job"] + SEP + message_template(entry["textPayload"])
        best_all = min(best_all, time.perf_counter() - start)
    return best_tpl / len(texts) * 1e6, best_all / len(raw) * 1e6


def _diag(
    dataset: str, rows: list[tuple[str, str, str]], keys: dict[str, str], truth: dict[str, str]
) -> None:
    by_true: dict[str, Counter[str]] = defaultdict(Counter)
    by_pred: dict[str, Counter[str]] = defaultdict(Counter)
    sample: dict[str, str] = {}
    for insert_id, service, text in rows:
        if service != dataset:
            continue
        true, pred = truth[insert_id], keys[insert_id]
        by_true[true][pred] += 1
        by_pred[pred][true] += 1
        sample.setdefault(pred, text)
    print(f"== {dataset}: merged predicted groups")
    for pred, trues in by_pred.items():
        if len(trues) > 1:
            print(f"  {pred.split(SEP)[1][:160]!r} <- {dict(trues)}")
    print(f"== {dataset}: split true groups")
    for true, preds in by_true.items():
        if len(preds) > 1:
            print(f"  {true} ({sum(preds.values())} lines, {len(preds)} templates)")
            for pred, n in preds.most_common(4):
                print(f"     {n:5d} {pred.split(SEP)[1][:150]!r}  e.g. {sample[pred][:100]!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--diag", nargs="*", default=[])
    parser.add_argument("--strategy", choices=list(TEMPLATES), default="fp2")
    args = parser.parse_args()
    global message_template
    message_template = TEMPLATES[args.strategy]
    corpus: Path = args.corpus

    rows = _load(corpus)
    keys = {insert_id: service + SEP + message_template(text) for insert_id, service, text in rows}
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False, encoding="utf-8") as out:
        for insert_id, key in keys.items():
            out.write(f"{insert_id}\t{key.replace(chr(9), ' ').replace(chr(10), ' ')}\n")
    scorer = corpus.parent / "loghub_score.py"
    result = subprocess.run(
        [sys.executable, str(scorer), str(corpus / "labels.tsv"), out.name],
        capture_output=True,
        text=True,
        check=True,
        cwd=scorer.parent,
    )
    Path(out.name).unlink()
    for part in result.stdout.split("\n")[0].split():
        dataset, ga = part.split(":")
        print(f"{dataset:12s} GA {float(ga):.3f}")
    print(result.stdout.strip().split("\n")[-1])

    raw = (corpus / "entries.jsonl").read_text(encoding="utf-8").splitlines()
    per_tpl, per_entry = _timing(rows, raw)
    print(
        f"message_template {per_tpl:.2f} µs/line; JSON parse + key {per_entry:.2f} µs/entry "
        f"({1e6 / per_entry:,.0f} entries/s)"
    )

    if args.diag:
        truth = dict(
            line.rstrip("\n").split("\t") for line in (corpus / "labels.tsv").open(encoding="utf-8")
        )
        for dataset in args.diag:
            _diag(dataset, rows, keys, truth)


if __name__ == "__main__":
    main()
