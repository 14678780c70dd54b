"""The Hub push up to the network: the files, card, repository, visibility and commit message; and
how it fails without a token or without a Hub to reach. The upload itself is not tested (no network)."""

import json
import socket

import pytest

from llm_pipeline.hub import HubError, plan_upload, push
from llm_pipeline.stages.evaluation.promotion_settings import PromotionSettings

REPORT = {
    "tuned_loss": 6.0279,
    "base_loss": 7.6293,
    "improvement": 0.2099,
    "data_versions": {"splits": "a1b2", "tokenized": "c3d4", "merged_model": "e5f6"},
    "eval_file": {"sha256": "0123456789abcdef" * 4},
}


def promoted_folder(tmp_path):
    folder = tmp_path / "promoted"
    (folder / "nested").mkdir(parents=True)
    for name in ("config.json", "model.safetensors", "tokenizer.json", "nested/extra.txt"):
        (folder / name).write_text("x")
    (folder / "README.md").write_text("# card\n\n## Evaluation\n")
    (folder / "promotion.json").write_text(json.dumps({"tuned_model": "/home/me/data/models/merged"}))
    (folder / ".written_by_llm_pipeline").write_text('{"written_by": "llm_pipeline", "run": "r1"}\n')
    return folder


def test_the_plan_names_the_files_the_card_the_repository_and_the_data_versions(tmp_path):
    folder = promoted_folder(tmp_path)
    upload = plan_upload(folder, "me/tuned", True, REPORT)
    assert upload.files == ("README.md", "config.json", "model.safetensors", "nested/extra.txt", "tokenizer.json")
    assert upload.repo_id == "me/tuned" and upload.private is True and "## Evaluation" in upload.card
    assert upload.commit_message == (
        "Promote model: per-token loss 6.0279 against base 7.6293 (21.0% lower); evaluated on splits a1b2, "
        "tokenized c3d4, merged_model e5f6, eval_file 0123456789abcdef"
    )


def test_a_folder_without_its_card_is_not_planned(tmp_path):
    folder = promoted_folder(tmp_path)
    (folder / "README.md").unlink()
    with pytest.raises(HubError, match="has no README.md"):
        plan_upload(folder, "me/tuned", True, REPORT)


def test_a_push_without_a_token_names_hf_token(tmp_path):
    upload = plan_upload(promoted_folder(tmp_path), "me/tuned", True, REPORT)
    for token in (None, ""):
        with pytest.raises(HubError, match="set HF_TOKEN in the environment of the Dagster processes"):
            push(upload, token)


def test_a_hub_that_cannot_be_reached_is_a_clear_failure(tmp_path):
    with socket.socket() as probe:  # a local port nothing listens on: refused at once, no network
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    upload = plan_upload(promoted_folder(tmp_path), "me/tuned", True, REPORT)
    with pytest.raises(HubError, match=r"could not push .* to the Hub repository me/tuned: .*refused"):
        push(upload, "hf_test", endpoint=f"http://127.0.0.1:{port}")


def test_a_repository_id_the_hub_would_refuse_is_refused_in_the_settings():
    assert PromotionSettings().hub_repo_id == "" and PromotionSettings().hub_private is True
    assert PromotionSettings(hub_repo_id="org/model-1.5").hub_repo_id == "org/model-1.5"
    for bad in ("a/b/c", "me/bad name", "me/ends-with."):
        with pytest.raises(ValueError, match="Repo id must"):
            PromotionSettings(hub_repo_id=bad)
