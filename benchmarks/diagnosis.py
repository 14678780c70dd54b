"""How the fit diagnosis reads noisy synthetic curves of known shape: a confusion table.

    python benchmarks/diagnosis.py [--seeds N] [--noise 0.02 0.04 ...]

For each noise level (a Gaussian, multiplicative deviation of the validation loss; the training
loss scatters by 1%), each kind of curve in llm_pipeline_tests/support/curves.py is drawn with N
seeds and diagnosed; one row per kind, one column per verdict, and the share read as intended.
"""

from __future__ import annotations

import argparse
from collections import Counter

from llm_pipeline.training.diagnosis import OVERFIT, UNDERFIT, UNSTABLE, VERDICTS, WELL_FIT, diagnose
from llm_pipeline_tests.support.curves import KINDS

INTENDED = {
    "well-fit": WELL_FIT,
    "overfit": OVERFIT,
    "memorised": OVERFIT,
    "underfit (flat)": UNDERFIT,
    "underfit (still falling)": UNDERFIT,
    "unstable": UNSTABLE,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--noise", type=float, nargs="+", default=[0.02, 0.04, 0.08])
    arguments = parser.parse_args()
    for noise in arguments.noise:
        print(f"\nvalidation noise {noise:.0%}, {arguments.seeds} seeds per kind")
        print(f"| curve | {' | '.join(VERDICTS)} | read as intended |")
        print(f"|---|{'---:|' * len(VERDICTS)}---:|")
        for kind, make in KINDS.items():
            counts = Counter(diagnose(make(seed, noise)).verdict for seed in range(arguments.seeds))
            cells = " | ".join(str(counts[verdict]) for verdict in VERDICTS)
            print(f"| {kind} | {cells} | {counts[INTENDED[kind]] / arguments.seeds:.1%} |")


if __name__ == "__main__":
    main()
