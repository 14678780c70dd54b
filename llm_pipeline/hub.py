"""The promoted model pushed to a Hugging Face Hub repository: a plan, then the push.

Everything up to the network is `plan_upload`, a pure function of the promoted folder and the
settings: which files go (every file of the folder but `promotion.json`, whose local paths and
digests mean nothing elsewhere, and the folder's owner marker; the card carries the evaluation), the repository, its
visibility and a commit message naming the data versions evaluated. `push` then creates the
repository if needed and uploads exactly those files in one commit, deleting the repository's
other files (`.gitattributes` excepted) so that a model saved in other shards leaves none behind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from llm_pipeline.stages.evaluation.run import PROMOTION_FILE
from llm_pipeline.storage.atomic import OWNER_MARKER
from llm_pipeline.training.merge import MODEL_CARD

TOKEN_ENV = "HF_TOKEN"
# Files of the promoted folder that stay local: its promotion record, and the marker naming the
# run that wrote the folder here.
LOCAL_ONLY = (PROMOTION_FILE, OWNER_MARKER)


class HubError(RuntimeError):
    """The push could not be made: no token, or the Hub refused or could not be reached."""


@dataclass(frozen=True)
class HubUpload:
    folder: Path
    repo_id: str
    private: bool
    files: tuple[str, ...]
    """Paths relative to `folder`, in sorted order."""
    commit_message: str

    @property
    def card(self) -> str:
        return (self.folder / MODEL_CARD).read_text(encoding="utf-8")


@dataclass(frozen=True)
class HubPush:
    repo_url: str
    commit_url: str
    commit: str


def plan_upload(folder: Path, repo_id: str, private: bool, report: Mapping) -> HubUpload:
    """What `push` will send for the promoted `folder`, whose evaluation report is `report`."""
    files = tuple(
        sorted(
            path.relative_to(folder).as_posix()
            for path in folder.rglob("*")
            if path.is_file() and path.relative_to(folder).as_posix() not in LOCAL_ONLY
        )
    )
    if MODEL_CARD not in files:
        raise HubError(f"{folder} has no {MODEL_CARD}: a model goes to the Hub with its card")
    return HubUpload(folder, repo_id, private, files, commit_message(report))


def commit_message(report: Mapping) -> str:
    """One line: the loss against the base and the data versions the model was evaluated on."""
    versions = dict(report.get("data_versions") or {})
    if report.get("eval_file"):
        versions["eval_file"] = report["eval_file"]["sha256"][:16]
    named = ", ".join(f"{name} {version}" for name, version in versions.items()) or "data versions not recorded"
    return (
        f"Promote model: per-token loss {report['tuned_loss']:.4f} against base {report['base_loss']:.4f} "
        f"({report['improvement']:.1%} lower); evaluated on {named}"
    )


def push(upload: HubUpload, token: str | None, endpoint: str | None = None) -> HubPush:
    """Create the repository (if missing) and commit the planned files to it. Needs the network."""
    if not token:
        raise HubError(
            f"hub_repo_id is {upload.repo_id!r} but no Hub token was given: set {TOKEN_ENV} in the environment of "
            "the Dagster processes (a token with write access), or leave hub_repo_id empty"
        )
    from httpx2 import HTTPError  # huggingface_hub's transport: its HfHubHTTPError and connection errors
    from huggingface_hub import HfApi

    api = HfApi(endpoint=endpoint or None, token=token)
    try:
        repo = api.create_repo(upload.repo_id, private=upload.private, exist_ok=True)
        commit = api.upload_folder(
            repo_id=repo.repo_id,
            folder_path=upload.folder,
            commit_message=upload.commit_message,
            allow_patterns=list(upload.files),
            delete_patterns="*",
        )
    except (HTTPError, OSError) as error:  # refused (401, 403, ...), not reached, or a file not read
        raise HubError(f"could not push {upload.folder} to the Hub repository {upload.repo_id}: {error}") from error
    return HubPush(repo_url=str(repo.url), commit_url=commit.commit_url, commit=commit.oid)
