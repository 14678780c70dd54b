"""The two jobs: the dataset alone, and everything through the fine-tuned checkpoint."""

import dagster as dg

from llm_pipeline.defs.assets.checkpoint import TRAINING_GROUP

# A run tag the instance limits to one run at a time (dagster.yaml), besides the `gpu` pool.
GPU_RUN_TAG = {"llm_pipeline/gpu": "true"}

prepare_dataset_job = dg.define_asset_job(
    "prepare_dataset",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups(TRAINING_GROUP),
    description="Raw files to tokenized train/validation splits: everything but the training group (the GPU step and what follows it).",
)

fine_tune_job = dg.define_asset_job(
    "fine_tune",
    selection=dg.AssetSelection.all(),
    tags=GPU_RUN_TAG,
    description="Raw files to the fine-tuned checkpoint, with its learning curve and diagnosis.",
)

jobs = [prepare_dataset_job, fine_tune_job]
