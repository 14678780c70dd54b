"""A corpus of bad raw input, one file per kind of fault, written by the tests into a temporary
data directory (the 50 MB line too, so nothing large lives in the repository).

Each entry says what the pipeline must make of its file: text it recovers and keeps, or the
quarantine reason(s) it must record. Either way the file leaves a trace; nothing vanishes.
One module per format, so that each grows on its own.
"""

from llm_pipeline_tests.support.bad_inputs.chat import CHAT_INPUTS
from llm_pipeline_tests.support.bad_inputs.common import BadInput
from llm_pipeline_tests.support.bad_inputs.csv import CSV_INPUTS
from llm_pipeline_tests.support.bad_inputs.html import HTML_INPUTS, NESTING_DEPTH
from llm_pipeline_tests.support.bad_inputs.jsonl import HUGE_LINE_BYTES, JSONL_INPUTS
from llm_pipeline_tests.support.bad_inputs.raw import RAW_INPUTS
from llm_pipeline_tests.support.bad_inputs.sql import SQL_INPUTS

BAD_INPUTS: list[BadInput] = [*HTML_INPUTS, *CSV_INPUTS, *SQL_INPUTS, *JSONL_INPUTS, *CHAT_INPUTS, *RAW_INPUTS]

__all__ = ["BAD_INPUTS", "HUGE_LINE_BYTES", "NESTING_DEPTH", "BadInput"]
