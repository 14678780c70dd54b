"""llm_pipeline: raw HTML / CSV / SQL / JSONL to a fine-tuned causal language model."""
