"""Conversations through the dataset assets: JSONL, JSON and Parquet chat files to splits, with
role names mapped in the run config, every check passing and the counts balancing."""

import json

import dagster as dg
import datasets
import pyarrow as pa
import pyarrow.parquet as pq

from llm_pipeline.defs.checks import asset_checks
from llm_pipeline.storage.layout import REPO_ROOT
from llm_pipeline_tests.support.dagster_resources import local_resources
from llm_pipeline_tests.support.stage_assets import stage_asset

STAGES = ["plaintext", "filtered", "clustered", "splits"]
TOPICS = ["bread", "compost", "bicycle chains", "routers", "index funds", "meteor showers", "burns", "sanding"]


# Three different conversations per topic, one per file: alike only in their topic.
EXCHANGES = [
    ("Where should a beginner start with {}?", "Start small with {}, read one good guide and practise weekly."),
    ("What tools do I need for {}?", "Very few: for {} a notebook and patience matter more than gear."),
    ("How do I know I am getting better at {}?", "Keep notes on {} each month and compare them with the first."),
]


def turns(topic: str, n: int, user: str = "user", assistant: str = "assistant") -> list[dict]:
    question, answer = EXCHANGES[n - 1]
    return [
        {"role": user, "content": question.format(topic)},
        {"role": assistant, "content": answer.format(topic)},
        {"role": user, "content": f"Thanks. Anything else about {topic} for conversation {n}?"},
        {"role": assistant, "content": f"Only that {topic} rewards regular short sessions (conversation {n})."},
    ]


def write_chat_files(raw) -> None:
    (raw / "jsonl").mkdir(parents=True)
    (raw / "json").mkdir()
    (raw / "parquet").mkdir()
    lines = [{"messages": turns(topic, 1, assistant="bot")} for topic in TOPICS]  # "bot": mapped in the config
    lines.append({"messages": [{"role": "user", "content": "Weather?"}, {"role": "tool", "content": "sunny"}]})
    (raw / "jsonl" / "chat.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    shared = [
        {
            "conversations": [
                {"from": turn["role"], "value": turn["content"]} for turn in turns(topic, 2, "human", "gpt")
            ]
        }
        for topic in TOPICS
    ]
    (raw / "json" / "sharegpt.json").write_text(json.dumps(shared))
    rows = [{"messages": turns(topic, 3)} for topic in TOPICS] + [{"messages": None}]
    pq.write_table(pa.Table.from_pylist(rows), raw / "parquet" / "chat.parquet")


def test_chat_files_flow_to_splits_with_mapped_roles_and_balanced_checks(tmp_path):
    data = tmp_path / "data"
    write_chat_files(data / "raw")
    config = {"plaintext": {"config": {"jsonl": {"chat": {"roles": {"bot": "assistant"}}}}}}
    result = dg.materialize(
        [stage_asset(stage) for stage in STAGES] + list(asset_checks),
        selection=STAGES,
        resources=local_resources(data),
        run_config=dg.RunConfig(ops=config),
        raise_on_error=False,
    )
    assert result.success
    checks = {evaluation.check_name: evaluation for evaluation in result.get_asset_check_evaluations()}
    assert checks["plaintext_accounts_for_raw_files"].passed  # one line, element or row is one record
    assert checks["plaintext_accounts_for_raw_files"].metadata["files_counted"].value == 3
    blocking = ["splits_share_no_prompt", *(f"{stage}_counts_balance" for stage in STAGES)]
    assert all(checks[name].passed for name in blocking), {name: checks[name].passed for name in blocking}

    rejected = datasets.load_from_disk(str(data / "rejected" / "plaintext"))
    assert sorted(zip(rejected["reason"], rejected["source"], strict=True)) == [
        ("no_turns", "parquet/chat.parquet row 9"),
        ("tool_turn", "jsonl/chat.jsonl line 9"),
    ]
    splits = datasets.load_from_disk(str(data / "splits"))
    kept = [row for side in ("train", "validation") for row in splits[side]]
    assert len(kept) == 3 * len(TOPICS)  # each topic's three conversations differ in their turns
    assert {row["format"] for row in kept} == {"jsonl", "json", "parquet"}
    assert all(row["text"] is None and [t["role"] for t in row["messages"]][-1] == "assistant" for row in kept)
    assert {turn["role"] for row in kept for turn in row["messages"]} == {"user", "assistant"}


def test_the_bundled_chat_files_traced_from_raw_to_tokenized(tmp_path):
    """Every conversation of the bundled chat files, from its raw line or element to its token row:
    the row's tokens are what the saved tokenizer's apply_chat_template makes of its turns, and
    exactly the assistant turns are learned."""
    from transformers import AutoTokenizer

    from llm_pipeline.stages.tokenized.chat_template import render_conversation
    from llm_pipeline.token_rows import IGNORE_INDEX, TOKENIZER_DIR

    bundled = REPO_ROOT / "data" / "raw"
    data = tmp_path / "data"
    for name in ("jsonl/chat_messages.jsonl", "json/chat_sharegpt.json"):
        (data / "raw" / name).parent.mkdir(parents=True, exist_ok=True)
        (data / "raw" / name).write_bytes((bundled / name).read_bytes())
    stages = [*STAGES, "base_model", "tokenized"]
    result = dg.materialize(
        [stage_asset(stage) for stage in stages] + list(asset_checks),
        selection=stages,
        resources=local_resources(data),
        run_config=dg.RunConfig(ops={"tokenized": {"config": {"packing": False}}}),
        raise_on_error=False,
    )
    assert result.success
    assert all(evaluation.passed for evaluation in result.get_asset_check_evaluations())

    raw_lines = (bundled / "jsonl" / "chat_messages.jsonl").read_text().splitlines()
    raw_elements = json.loads((bundled / "json" / "chat_sharegpt.json").read_text())
    splits = datasets.load_from_disk(str(data / "splits"))
    records = {row["id"]: row for side in ("train", "validation") for row in splits[side]}
    tokenized = datasets.load_from_disk(str(data / "tokenized"))
    token_rows = {row["id"]: row for side in ("train", "validation") for row in tokenized[side]}
    tokenizer = AutoTokenizer.from_pretrained(str(data / "tokenized" / TOKENIZER_DIR))
    assert set(token_rows) == set(records) and len(records) >= 25
    for record_id, record in records.items():
        name, _, place = record["source"].rpartition(" ")
        raw = json.loads(raw_lines[int(place) - 1]) if name.startswith("jsonl/") else raw_elements[int(place) - 1]
        raw_turns = raw.get("messages") or [{"role": t["from"], "content": t["value"]} for t in raw["conversations"]]
        assert [turn["content"] for turn in record["messages"]] == [turn["content"] for turn in raw_turns]
        messages = [{"role": turn["role"], "content": turn["content"]} for turn in record["messages"]]
        row = token_rows[record_id]
        assert row["input_ids"] == tokenizer.apply_chat_template(messages, tokenize=True, return_dict=False)
        rendered = render_conversation(tokenizer, tokenizer.chat_template, messages)
        learned = [label != IGNORE_INDEX for label in row["labels"]]
        runs = [  # the learned stretches of tokens, each decoded whole
            tokenizer.decode(row["input_ids"][start:end]) for start, end in _runs(learned)
        ]
        assert runs == [rendered.text[start:end] for start, end in rendered.assistant_spans]


def _runs(flags: list[bool]) -> list[tuple[int, int]]:
    runs, start = [], None
    for index, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = index
        elif not flag and start is not None:
            runs.append((start, index))
            start = None
    return runs
