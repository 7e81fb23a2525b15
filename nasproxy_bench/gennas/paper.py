"""The GenNAS paper's numbers (Li et al., NeurIPS 2021; /work/shared/papers/gennas.md).

Targets to compare our measurements with, never inputs to any computation.
"""

from __future__ import annotations

# Table 1 (NB101, CIFAR-10, 500 archs): Spearman rho of each signal base at each stage alone.
TABLE1_COLUMNS = ("Sin1D-L", "Sin1D-M", "Sin1D-H", "Sin2D-L", "Sin2D-M", "Sin2D-H",
                  "Dot50", "Dot100", "GDot50", "GDot100", "Resize", "Zero")
TABLE1 = {
    "S1": (0.13, 0.43, 0.64, 0.14, 0.53, 0.63, 0.55, 0.62, 0.18, 0.16, 0.56, 0.17),
    "S2": (0.03, 0.52, 0.79, 0.05, 0.73, 0.72, 0.64, 0.69, 0.03, 0.02, 0.73, 0.18),
    "S3": (0.08, 0.77, 0.80, 0.23, 0.78, 0.72, 0.76, 0.81, 0.16, 0.17, 0.80, 0.22),
}
TABLE1_COMBO = 0.85  # Table 1, last line "GenNAS-combo"

# Table 2: (benchmark, dataset) -> {column: rho}. Our benchmark/dataset names (rows without a
# store entry are printed as "not run"). NDS ImageNet rows are keyed by the 32 px input variant
# the public code's sampler feeds (do_sample.py); NDS CIFAR-10 spaces need `import nds` first.
TABLE2 = {
    ("nb101", "cifar10"): {"single": 0.81, "combo": 0.85, "search-N": 0.87},  # Table 2, NASBench-101 CIFAR-10
    ("nb201", "cifar10"): {"single": 0.77, "combo": 0.87, "search-N": 0.90},  # Table 2, NASBench-201 CIFAR-10
    ("nb201", "cifar100"): {"single": 0.69, "combo": 0.82, "search-N": 0.84},  # Table 2, NASBench-201 CIFAR-100
    ("nb201", "ImageNet16-120"): {"single": 0.70, "combo": 0.81, "search-N": 0.87},  # Table 2, NASBench-201 ImgNet16
    ("nbnlp", "ptb"): {"single": 0.73, "combo": 0.74, "search-N": 0.81},  # Table 2, NASBench-NLP (as cited in issue #12)
    **{(f"nds_{space}", "cifar10"): dict(zip(("single", "combo", "search-N"), values, strict=True)) for space, values in {
        # Table 2, Neural Design Spaces, CIFAR-10 rows (GenNAS single, combo, search-N)
        "darts": (0.43, 0.68, 0.71), "darts_fix-w-d": (0.51, 0.59, 0.53), "amoeba": (0.52, 0.64, 0.68),
        "enas": (0.56, 0.70, 0.67), "enas_fix-w-d": (0.65, 0.65, 0.67), "nasnet": (0.56, 0.66, 0.65),
        "pnas": (0.32, 0.58, 0.59), "pnas_fix-w-d": (0.45, 0.48, 0.56), "resnet": (0.34, 0.52, 0.55),
        "resnext-a": (0.57, 0.61, 0.80), "resnext-b": (0.26, 0.30, 0.53),
    }.items()},
    **{(f"nds_{space}", "imagenet-32"): dict(zip(("single", "combo", "search-N"), values, strict=True)) for space, values in {
        # Table 2, Neural Design Spaces, ImageNet rows (GenNAS single, combo, search-N)
        "darts": (0.61, 0.75, 0.70), "darts_fix-w-d": (0.68, 0.69, 0.67), "amoeba": (0.63, 0.72, 0.73),
        "enas": (0.59, 0.70, 0.58), "nasnet": (0.52, 0.59, 0.52), "pnas": (0.28, 0.39, 0.45),
        "resnext-a": (0.80, 0.84, 0.75), "resnext-b": (0.71, 0.79, 0.51),
    }.items()},
}

# The labels the paper correlated with, where they differ from the benchmark's default metric here:
# (benchmark, dataset) -> (our dataset, metric). NB201 CIFAR-10: the authors' label file
# (leeyeehoo/GenNAS-Zero data/nb201/cifar10valid.json, read by its NB201 configs) equals NB201's
# cifar10-valid validation accuracy on all 15,625 architectures (checked: max |difference| 0).
LABELS = {("nb201", "cifar10"): ("cifar10-valid", "valid_acc")}

# Table 3 (end-to-end search, test accuracy %): filled by the search branch's report.
TABLE3 = {
    ("nb201", "cifar10"): 94.18, ("nb201", "cifar100"): 72.56, ("nb201", "ImageNet16-120"): 45.59,
    ("nb101", "cifar10"): 93.92,
}

# Sec. 4.3 / App.: repeated proxy-task search on NB101 with 20 labelled archs, 10 seeds.
TASK_SEARCH = {"evolution": (0.86, 0.02), "random": (0.82, 0.01)}
