"""Trying a model: a conversation rendered into input ids, and the reply streamed as it is generated.

What `llm-pipeline generate` and `llm-pipeline chat` run, against the promoted model or any model
folder. A conversation is a list of messages (`role`: system | user | assistant, `content`),
rendered by `input_ids`: through the tokenizer's chat template when it has one (every model this
pipeline trains carries the template its training used), else, for a plain base model, as text
to continue (the turns' contents one after another).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from llm_pipeline.stages.evaluation.run import PROMOTED_DIR
from llm_pipeline.stages.tokenized.chat_template import prompt_ids, text_ids
from llm_pipeline.training.merge import ADAPTER_CONFIG

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model")


class ModelFolderError(ValueError):
    """No model where one was asked for: no promoted model yet, or a folder that holds none."""


class ContextFullError(ValueError):
    """The conversation leaves no room in the model's context for a reply."""


def model_folder(model: str | None, models_dir: Path) -> Path:
    """The folder `--model` names, or the promoted model under `models_dir`; checked to hold a model."""
    if model is None:
        folder = models_dir / PROMOTED_DIR
        if not (folder / "config.json").is_file():
            raise ModelFolderError(
                f"no promoted model in {folder} yet: run the pipeline first (llm-pipeline run) or pass --model PATH"
            )
        return folder
    folder = Path(model).expanduser().resolve()
    if not folder.is_dir():
        raise ModelFolderError(f"--model {model}: no such folder")
    if not (folder / "config.json").is_file():
        if (folder / ADAPTER_CONFIG).is_file():
            raise ModelFolderError(
                f"{folder} holds a LoRA adapter, not a model: pass its merged model (models/merged) instead"
            )
        raise ModelFolderError(f"{folder} is not a model folder: it has no config.json")
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise ModelFolderError(f"{folder} has no tokenizer ({', '.join(TOKENIZER_FILES)})")
    return folder


def input_ids(tokenizer, messages: Sequence[dict]) -> list[int]:
    """The conversation `messages`, ending with a user turn, as the ids a reply is generated after."""
    if tokenizer.chat_template:
        return prompt_ids(tokenizer, messages)
    return text_ids(tokenizer, "\n\n".join(message["content"] for message in messages))


@dataclass
class Conversation:
    """The messages so far; `/reset` keeps only the system message."""

    system: str = ""
    turns: list[dict] = field(default_factory=list)

    def messages(self, user: str) -> list[dict]:
        """The conversation with the next user message."""
        head = [{"role": "system", "content": self.system}] if self.system else []
        return [*head, *self.turns, {"role": "user", "content": user}]

    def add(self, user: str, reply: str) -> None:
        self.turns += [{"role": "user", "content": user}, {"role": "assistant", "content": reply}]

    def reset(self) -> None:
        self.turns = []


@dataclass
class Generator:
    """A loaded model and tokenizer, and how prompts are written for them."""

    model: object
    tokenizer: object
    context: int
    """Tokens the model takes (its max_position_embeddings)."""

    def describe_format(self) -> str:
        return "the tokenizer's chat template" if self.tokenizer.chat_template else "plain text (no chat template)"

    def reply(self, messages: Sequence[dict], max_new_tokens: int, temperature: float = 0.0, streamer=None) -> str:
        """The model's reply to `messages`: greedy (temperature 0) or sampled, streamed to `streamer`."""
        import torch

        ids = input_ids(self.tokenizer, messages)
        room = self.context - len(ids)
        if room < 1:
            raise ContextFullError(f"the conversation is {len(ids)} tokens, the model's context {self.context}")
        device = next(self.model.parameters()).device
        prompt = torch.tensor([ids], device=device)
        sampling = {"do_sample": True, "temperature": temperature} if temperature > 0 else {"do_sample": False}
        with torch.no_grad():
            generated = self.model.generate(
                input_ids=prompt,
                attention_mask=torch.ones_like(prompt),
                max_new_tokens=min(max_new_tokens, room),
                pad_token_id=self.tokenizer.pad_token_id
                if self.tokenizer.pad_token_id is not None
                else self.tokenizer.eos_token_id,
                streamer=streamer,
                **sampling,
            )
        return self.tokenizer.decode(generated[0, len(ids) :], skip_special_tokens=True)


def load_generator(
    folder: Path, first_messages: Sequence[dict], max_new_tokens: int, max_memory_mb: int = 0, trust_remote_code=False
) -> tuple[Generator, str]:
    """The model of `folder`, loaded after the memory preflight passed for `first_messages` and a reply
    of `max_new_tokens` (MemoryPlanError otherwise, with the estimate); and what was checked, in words."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from llm_pipeline.inference_memory import check_inference_fits, estimate_inference
    from llm_pipeline.training.memory import MIB, available_memory_bytes

    tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=trust_remote_code)
    config = AutoConfig.from_pretrained(folder, trust_remote_code=trust_remote_code)
    context = config.get_text_config().max_position_embeddings
    tokens = min(context, len(input_ids(tokenizer, first_messages)) + max_new_tokens)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    available = max_memory_mb * MIB if max_memory_mb else available_memory_bytes(device)
    estimate = check_inference_fits(
        estimate_inference(folder, config, tokens, cuda=device == "cuda"), available, f"{folder} on {device}"
    )
    model = AutoModelForCausalLM.from_pretrained(folder, dtype="auto", trust_remote_code=trust_remote_code)
    model.to(device).eval()
    generator = Generator(model, tokenizer, context)
    return generator, f"{folder} on {device}, prompts by {generator.describe_format()}; memory ~{estimate.describe()}"
