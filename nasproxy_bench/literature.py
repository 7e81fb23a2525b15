"""Published NB201 SPR@All values, for the fidelity table of the report.

The values were collected in this project's proxy issue (batch 64, >=1000 archs, test
accuracy). They do NOT come from the zero-shot NAS survey (Li et al., "Zero-Shot Neural
Architecture Search: Challenges, Solutions, and Opportunities"), which prints correlations
only as bar charts, not as NB201 SPR numbers. ``SOURCES`` says where each row comes from;
a row whose source could not be checked against the cited paper's text says "unconfirmed"
and names the candidate source it is believed to come from, so a reader knows to verify it.
ntk_cond is given as |ρ| (it is a lower-is-better proxy). fisher varies by source
(0.36-0.55) and is not listed.

ZiCo's NATS-Bench-TSS tables (main text Table 1; Appendix E.1 Table 3, which adds KNAS, NASWOT,
GradSign and an NTK row) were read in full text in issue 16: params, flops, zico, gradsign and
ntk_cond match them exactly. The other rows do NOT match ZiCo's numbers (noted per row), so
ZiCo is not their source; they stay unconfirmed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from nasproxy_bench.errors import DataError

DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
NB201_SPR = {
    "synflow": (0.74, 0.76, 0.75),
    "naswot": (0.77, 0.80, 0.77),
    "jacob_cov": (0.73, 0.70, 0.70),
    "snip": (0.60, 0.64, 0.58),
    "grad_norm": (0.59, 0.64, 0.58),
    "grasp": (0.51, 0.55, 0.55),
    "zen": (0.35, 0.36, 0.39),
    "params": (0.75, 0.73, 0.69),
    "flops": (0.73, 0.71, 0.67),
    "zico": (0.80, 0.81, 0.79),
    "gradsign": (0.77, 0.79, 0.78),
    "ntk_cond": (0.44, 0.43, 0.63),
}
UNCONFIRMED = "unconfirmed"


@dataclass(frozen=True)
class PublishedValue:
    """A number printed in a paper and where it is printed (table, row, column)."""

    value: float
    source: str


_ZICO_T1 = "ZiCo (Li et al., ICLR 2023) Table 1 and Appendix E.1 Table 3, NATS-Bench-TSS SPR"
# Where each row of NB201_SPR is printed. Issue 14 could not read any paper past its opening; issue 16 found
# ZiCo's full text (ICLR 2023 camera-ready, Table 1 and Appendix E.1 Table 3): rows matching it exactly are
# confirmed below, the rest stay unconfirmed, with ZiCo's differing numbers noted so nobody re-credits ZiCo.
# One secondary reading (not a paper's text, so it confirms nothing; issue 14): a third-party wiki page in the
# code index ("papers--akhauri2022-eznas-results", a transcription of EZNAS's NB201 Spearman table, Akhauri et
# al., NeurIPS 2022) lists synflow 0.74/0.76/0.75 (= our row), jacob_cov 0.73/0.71/0.71, snip 0.58/0.63/0.58,
# grad_norm 0.58/0.64/0.58, grasp 0.48/0.54/0.56, params 0.75/0.72/0.69 and flops 0.75/0.72/0.69.
SOURCES = {
    "synflow": f"{UNCONFIRMED}: candidate Abdelfattah et al. (ICLR 2021), NB201 table (a secondary transcription of "
               "EZNAS's NB201 table reads the same); not ZiCo's Table 1 (0.73 / 0.76 / 0.75)",
    "naswot": f"{UNCONFIRMED}: candidate source unknown; not ZiCo's Table 3 (0.77 / 0.80 / 0.78)",
    "jacob_cov": f"{UNCONFIRMED}: candidate Abdelfattah et al. (ICLR 2021), NB201 table",
    "snip": f"{UNCONFIRMED}: candidate source unknown; not ZiCo's Table 1 (0.63 / 0.63 / 0.58)",
    "grad_norm": f"{UNCONFIRMED}: candidate source unknown; not ZiCo's Table 1 (0.63 / 0.63 / 0.58)",
    "grasp": f"{UNCONFIRMED}: candidate source unknown; not ZiCo's Table 1 (0.54 / 0.51 / 0.56)",
    "zen": f"{UNCONFIRMED}: candidate source unknown; not ZiCo's Table 1 (0.38 / 0.36 / 0.40)",
    "params": f"{_ZICO_T1} (#Params row; KT 0.57 / 0.55 / 0.52)",
    "flops": f"{_ZICO_T1} (FLOPs row; KT 0.54 / 0.51 / 0.49)",
    "zico": f"the proxy's own paper, {_ZICO_T1} (ZiCo row; KT 0.61 / 0.61 / 0.60)",
    "gradsign": "ZiCo (Li et al., ICLR 2023) Appendix E.1 Table 3, GradSign row (KT 0.58 / 0.59 / 0.59); "
                "GradSign's own paper (Zhang & Jia, ICLR 2022) not checked",
    # Not TE-NAS's own number: TE-NAS (Chen et al., ICLR 2021, Sec. 3.1.1, Figure 1) reports Kendall tau -0.42 for
    # kappa_N on NB201 (dataset not named; the accuracy axis, 10-70 %, fits CIFAR-100). ZiCo's row is one "NTK"
    # score for TE-NAS and NASI together (footnote: "we directly compute the correlation between NTK and the real
    # test accuracy"), run by ZiCo "with the official code" at unstated settings (network size, batch, data, which
    # NTK statistic: TE-NAS uses the condition number, NASI the trace), printed as positive numbers. It is the NTK
    # alone, not TE-NAS's combined NTK + #linear-regions rank, and not a number TE-NAS's authors published.
    "ntk_cond": "ZiCo (Li et al., ICLR 2023) Appendix E.1 Table 3, row 'NTK [TE-NAS, NASI]' (SPR; KT 0.33 / 0.33 / 0.46), "
                "ZiCo's own run at unstated settings; TE-NAS's paper itself reports only Kendall tau -0.42 (Figure 1)",
}
ABSOLUTE = ("ntk_cond",)  # published as |ρ|
TOLERANCE = 0.05


def fidelity_table(summary: pd.DataFrame, cifar10_valid_spr: dict[str, float] | None = None) -> pd.DataFrame:
    """Our NB201 SPR@All next to the literature, with the deviation and a within-tolerance flag.

    ``cifar10_valid_spr``: SPR of the CIFAR-10 scores against NB201's ``cifar10-valid``
    accuracy (networks trained on the train split only), the CIFAR-10 ground truth that
    NAS-Bench-Suite-Zero and others correlate with; shown as an extra column.
    """
    cifar10_valid_spr = cifar10_valid_spr or {}
    rows = []
    ours = summary[(summary["benchmark"] == "nb201") & (summary["sample_seed"] >= 0)]
    # one row per (proxy, dataset): the published setting (batch 64) first, then the largest sample
    ours = (ours.assign(published_batch=ours["batch_size"] == 64)
            .sort_values(["published_batch", "n"], ascending=False)
            .drop_duplicates(["proxy", "dataset"])
            .set_index(["proxy", "dataset"]))
    for proxy, values in NB201_SPR.items():
        for dataset, published in zip(DATASETS, values, strict=True):
            if (proxy, dataset) not in ours.index:
                continue
            row = ours.loc[(proxy, dataset)]
            value = float(row["spearman_mean"])
            valid_gt = cifar10_valid_spr.get(proxy, float("nan")) if dataset == "cifar10" else float("nan")
            if proxy in ABSOLUTE:
                value, valid_gt = abs(value), abs(valid_gt)
            rows.append({"proxy": proxy, "dataset": dataset, "n": int(row["n"]), "ours": value, "literature": published,
                         "deviation": value - published, "within_0.05": abs(value - published) <= TOLERANCE,
                         "ours_vs_cifar10_valid": valid_gt, "source": SOURCES[proxy]})
    return pd.DataFrame(rows)


# The survey's best-found tables (Table IV: NB201 / NATS-Bench size space; Table V: TransNAS-Bench-101
# micro), keyed (benchmark, dataset, proxy). Only numbers checked against the paper's text belong here,
# each with the place it is printed. None could be checked in this project (issue 14, three sessions): the
# search tool returns only the opening of each stored page (arXiv 2307.01998 abstract pages, PubMed
# 38687659, paperswithcode), no HTML or PDF body of the paper is in its corpora, no public repository in
# the code index holds the paper's text or tables (SLDGroup/survey-zero-shot-nas: code, a paper list and
# stat.svg only), and no PDF tool is installed. So the mapping is empty: every survey cell says
# SURVEY_UNCONFIRMED, and `survey_best_found` reads a reader's transcription from the data root instead.
SURVEY_BEST_FOUND: dict[tuple[str, str, str], PublishedValue] = {}
SURVEY_UNCONFIRMED = "unconfirmed"
# Where a reader who has the paper puts its Table IV/V numbers (relative to the data root), and the
# columns that file needs. Values are in our ground truth's units: test accuracy and mIoU in %, SSIM in [0, 1].
SURVEY_TRANSCRIPTION = Path("literature/survey_best_found.csv")
TRANSCRIPTION_COLUMNS = ("benchmark", "dataset", "proxy", "value", "source")
# The rows of the survey's best-found tables: benchmark -> datasets/tasks (typos would otherwise never match)
SURVEY_TABLE_ROWS = {
    "nb201": ("cifar10", "cifar100", "ImageNet16-120"),
    "nats_sss": ("cifar10", "cifar100", "ImageNet16-120"),
    "tnb101_micro": ("segmentsemantic", "autoencoder", "normal"),
}


def survey_best_found(data_root: Path | None = None) -> dict[tuple[str, str, str], PublishedValue]:
    """The survey's Table IV/V numbers known here: those confirmed in code, then a reader's transcription.

    The transcription (``<data root>/literature/survey_best_found.csv``, columns
    ``TRANSCRIPTION_COLUMNS``) holds one printed number per row and, in ``source``, where it is
    printed (e.g. "TPAMI 2024, Table IV, row ZiCo, column CIFAR-10"). It is optional; a malformed
    one raises ``DataError`` naming the file and the problem.
    """
    values = dict(SURVEY_BEST_FOUND)
    if data_root is None or not (Path(data_root) / SURVEY_TRANSCRIPTION).is_file():
        return values
    path = Path(data_root) / SURVEY_TRANSCRIPTION
    where = str(path)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{where} is not a readable CSV ({exc}); fix or remove it") from exc
    missing = [c for c in TRANSCRIPTION_COLUMNS if c not in table.columns]
    if missing:
        raise DataError(f"{where} lacks the column(s) {', '.join(missing)}; it needs {', '.join(TRANSCRIPTION_COLUMNS)}")
    for line, row in zip(range(2, len(table) + 2), table.itertuples(index=False), strict=True):
        datasets = SURVEY_TABLE_ROWS.get(row.benchmark)
        if datasets is None:
            raise DataError(f"{where} line {line}: benchmark {row.benchmark!r} has no survey table; "
                            f"use one of {', '.join(SURVEY_TABLE_ROWS)}")
        if row.dataset not in datasets:
            raise DataError(f"{where} line {line}: {row.benchmark} has no survey column {row.dataset!r}; "
                            f"use one of {', '.join(datasets)}")
        try:
            value = float(row.value)
        except ValueError:
            value = float("nan")
        if not math.isfinite(value):
            raise DataError(f"{where} line {line}: value {row.value!r} is not a number; write the printed number")
        if not row.source.strip() or not row.proxy.strip():
            raise DataError(f"{where} line {line}: empty proxy or source; say where the number is printed "
                            "(table, row, column)")
        key = (row.benchmark, row.dataset, row.proxy)
        if key in values:
            raise DataError(f"{where} line {line}: {'/'.join(key)} is given twice (or is already confirmed in "
                            "nasproxy_bench/literature.py); keep one row per number")
        values[key] = PublishedValue(value, f"transcribed: {row.source.strip()}")
    return values
