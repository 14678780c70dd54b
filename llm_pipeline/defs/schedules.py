"""A daily refresh of the dataset (stopped until turned on in the UI)."""

import dagster as dg

from llm_pipeline.defs.jobs import prepare_dataset_job

daily_dataset_refresh = dg.ScheduleDefinition(
    name="daily_dataset_refresh",
    job=prepare_dataset_job,
    cron_schedule="0 3 * * *",
    description="Rebuilds the dataset every day at 03:00; fine-tuning follows raw-data changes through the sensor.",
)

schedules = [daily_dataset_refresh]
