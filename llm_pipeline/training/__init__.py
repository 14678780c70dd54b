"""Fine-tuning: config, model builder, launched trainer, learning curve and its diagnosis (no dagster here)."""
