"""`llm-pipeline`: the pipeline from a shell, thin over Dagster's own APIs, always with the project file.

    llm-pipeline run [--select SELECTION]   materialize (default: everything) and print a summary
    llm-pipeline status                     which assets are stale, missing or fresh, and why
    llm-pipeline settings [STAGE ...]       every setting with the value this project gives it, and its help
    llm-pipeline dev [--port 3000]          the web UI and the daemon on 127.0.0.1
    llm-pipeline generate "PROMPT"          the promoted model's (or --model PATH's) reply, streamed
    llm-pipeline chat                       a conversation with it on stdin; /reset, /exit

The Dagster instance is $DAGSTER_HOME, else .dagster_home/ at the repository root, created
with the repository's dagster.yaml when missing (what `make instance` does).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from llm_pipeline.storage.layout import REPO_ROOT

DEFINITIONS_MODULE = "llm_pipeline.definitions"
DEFAULT_DAGSTER_HOME = REPO_ROOT / ".dagster_home"
INSTANCE_CONFIG = REPO_ROOT / "dagster.yaml"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="llm-pipeline", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="materialize with the project file and print a summary")
    run_parser.add_argument(
        "--select", default="*", help="Dagster asset selection, e.g. 'filtered*' or 'plaintext,filtered' (default: *)"
    )
    commands.add_parser("status", help="which assets are stale and why")
    settings_parser = commands.add_parser(
        "settings", help="every setting with its value in this project and its help, as YAML"
    )
    settings_parser.add_argument("stages", nargs="*", help="the sections to print (default: all)")
    dev_parser = commands.add_parser("dev", help="start the web UI and the daemon on 127.0.0.1")
    dev_parser.add_argument("--port", type=int, default=3000)
    generate_parser = commands.add_parser("generate", help="the model's reply to one prompt, streamed to stdout")
    generate_parser.add_argument("prompt")
    chat_parser = commands.add_parser("chat", help="a conversation with the model: lines from stdin, /reset, /exit")
    for trying in (generate_parser, chat_parser):
        _model_options(trying)
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # two torch threads on two busy cores ran 20x slower
    home = dagster_home()
    from llm_pipeline.defs.project import ProjectFileError, load_project

    try:
        if args.command == "dev":
            load_project()  # a bad file is reported here, not as a code location that fails to load
            return dev(args.port, home)
        if args.command == "run":
            return run(args.select)
        if args.command == "settings":
            return settings(args.stages)
        if args.command in ("generate", "chat"):
            return try_model(args)
        return status()
    except ProjectFileError as error:
        print(f"llm-pipeline: {error}", file=sys.stderr)
        return 2


def dagster_home() -> Path:
    """$DAGSTER_HOME, set to .dagster_home/ at the repository root when unset, with an instance config."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(DEFAULT_DAGSTER_HOME)))
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists() and INSTANCE_CONFIG.is_file():
        shutil.copy(INSTANCE_CONFIG, home / "dagster.yaml")
    return home


def pipeline_job():
    """The job of every asset (a selection runs a subset of it); reconstructable by module path,
    so each step's process loads the same definitions."""
    from llm_pipeline.definitions import defs
    from llm_pipeline.defs.jobs import fine_tune_job

    return defs.resolve_job_def(fine_tune_job.name)


def run(select: str) -> int:
    import dagster as dg

    from llm_pipeline.definitions import defs, project
    from llm_pipeline.defs.deployment import execution_run_config
    from llm_pipeline.run_summary import summary_text

    graph = defs.resolve_asset_graph()
    selection = dg.AssetSelection.from_coercible(select.split(","))
    keys = selection.resolve(graph)
    if not keys:
        print(f"llm-pipeline: the selection {select!r} names no asset", file=sys.stderr)
        return 2
    print(f"project file: {project.describe()}\ndata directory: {project.data_dir}")
    print(f"materializing {len(keys)} assets: {', '.join(sorted(key.to_user_string() for key in keys))}", flush=True)
    with dg.DagsterInstance.get() as instance:
        result = dg.execute_job(
            dg.reconstructable(pipeline_job),
            instance=instance,
            asset_selection=sorted(keys),
            # Dagster's per-event DEBUG lines hide the stages' own progress; INFO keeps those.
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}, **execution_run_config()},
            raise_on_error=False,
        )
        materialized = {
            event.asset_key: {key: value.value for key, value in event.materialization.metadata.items()}
            for event in result.get_asset_materialization_events()
        }
        checks = [
            (check.check_name, check.passed, check.severity.value) for check in result.get_asset_check_evaluations()
        ]
        stages = [
            (key.to_user_string(), materialized.get(key))
            for key in graph.toposorted_asset_keys
            if key in keys and graph.get(key).is_materializable
        ]
        print()
        print(summary_text(result.run_id, result.success, stages, checks, str(project.data_dir)))
    return 0 if result.success else 1


def status() -> int:
    import dagster as dg
    from dagster._core.asset_graph_view.asset_graph_view import AssetGraphView, TemporalContext
    from dagster._core.definitions.data_version import CachingStaleStatusResolver
    from dagster._time import get_current_datetime

    from llm_pipeline.definitions import defs, project

    graph = defs.resolve_asset_graph()
    print(f"project file: {project.describe()}\ndata directory: {project.data_dir}\n")
    with dg.DagsterInstance.get() as instance:
        # The resolver behind the UI's "stale" badges (Dagster has no public API for it yet).
        view = AssetGraphView(
            temporal_context=TemporalContext(effective_dt=get_current_datetime(), last_event_id=None),
            instance=instance,
            asset_graph=graph,
        )
        resolver = CachingStaleStatusResolver(instance=instance, asset_graph=graph, loading_context=view)
        rows, states = [], {}
        for key in graph.toposorted_asset_keys:
            if not graph.get(key).is_materializable:
                continue
            state = resolver.get_status(key).value.lower()
            causes = resolver.get_stale_root_causes(key) if state == "stale" else []
            why = "; ".join(sorted({_cause_text(key, cause) for cause in causes}))
            # Dagster calls an asset fresh until its own inputs change; one built on a stale or
            # missing input will be rebuilt after it, which is what a person asks `status` about.
            behind = sorted(
                parent.to_user_string()
                for parent in graph.get(key).parent_keys
                if states.get(parent, "fresh") != "fresh"
            )
            if state == "fresh" and behind:
                state, why = "stale", f"built on {', '.join(behind)}, which will be rebuilt first"
            states[key] = state
            rows.append((key.to_user_string(), state, why))
    width = max(len(name) for name, _, _ in rows)
    for name, state, why in rows:
        print(f"{name.ljust(width)}  {state}{': ' + why if why else ''}")
    return 0


def _cause_text(key, cause) -> str:
    reason = cause.reason
    if "code version" in reason:
        reason += " (its code or its section of the project file changed)"
    subject = cause.key.asset_key
    dependency = f" ({cause.dependency.asset_key.to_user_string()})" if cause.dependency else ""
    return f"{reason}{dependency}" if subject == key else f"{subject.to_user_string()} {reason}{dependency}"


def settings(stages: Sequence[str]) -> int:
    """The project's settings, complete and commented: what a project file may set, and to what."""
    from llm_pipeline.defs.project import EXCLUDED_FIELDS, STAGE_SETTINGS, load_project
    from llm_pipeline.setting import documented_yaml

    unknown = [stage for stage in stages if stage not in STAGE_SETTINGS]
    if unknown:
        print(
            f"llm-pipeline: no section {', '.join(unknown)}; the sections are {', '.join(STAGE_SETTINGS)}",
            file=sys.stderr,
        )
        return 2
    project = load_project()
    print(f"# The settings of {project.describe()}, every key with its value and help.")
    print(f"data_dir: {project.data_dir}")
    for stage in stages or STAGE_SETTINGS:
        value = project.of(stage)
        print(f"\n# {' '.join((type(value).__doc__ or '').split())}\n{stage}:")
        print("\n".join(documented_yaml(value, exclude=EXCLUDED_FIELDS.get(stage, ()), indent=2)))
    return 0


def _model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="a model folder (default: the promoted model, <data dir>/models/promoted)")
    parser.add_argument("--max-new-tokens", type=int, default=256, help="tokens generated per reply (default: 256)")
    parser.add_argument(
        "--temperature", type=float, default=0.0, help="0 (the default): greedy; above 0: sampled at this temperature"
    )
    parser.add_argument("--system", default="", help="a system message before the conversation")
    parser.add_argument(
        "--max-memory-mb", type=int, default=0, help="memory the model may take (default 0: the device's free memory)"
    )
    parser.add_argument("--trust-remote-code", action="store_true", help="allow a model that ships its own code")


def try_model(args: argparse.Namespace) -> int:
    """`generate` and `chat`: informative lines on stderr, the replies alone on stdout, as they are generated."""
    from llm_pipeline.defs.project import load_project
    from llm_pipeline.generation import ContextFullError, Conversation, ModelFolderError, load_generator, model_folder
    from llm_pipeline.storage.layout import DataLayout
    from llm_pipeline.training.memory import MemoryPlanError

    if args.max_new_tokens < 1 or args.temperature < 0:
        print("llm-pipeline: --max-new-tokens must be at least 1 and --temperature 0 or more", file=sys.stderr)
        return 2
    conversation = Conversation(system=args.system)
    first = conversation.messages(args.prompt if args.command == "generate" else "")
    try:
        folder = model_folder(args.model, DataLayout(load_project().data_dir).models)
        generator, described = load_generator(
            folder, first, args.max_new_tokens, args.max_memory_mb, args.trust_remote_code
        )
    except (ModelFolderError, MemoryPlanError) as error:
        print(f"llm-pipeline: {error}", file=sys.stderr)
        return 2
    print(f"model: {described}", file=sys.stderr, flush=True)
    from transformers import TextStreamer

    streamer = TextStreamer(generator.tokenizer, skip_prompt=True, skip_special_tokens=True)

    def reply(user: str) -> str:
        return generator.reply(conversation.messages(user), args.max_new_tokens, args.temperature, streamer)

    if args.command == "generate":
        try:
            reply(args.prompt)
        except ContextFullError as error:
            print(f"llm-pipeline: {error}", file=sys.stderr)
            return 2
        return 0
    interactive = sys.stdin.isatty()
    print("chat: type a message; /reset starts over, /exit (or end of input) leaves", file=sys.stderr)
    while True:
        if interactive:
            print("> ", end="", file=sys.stderr, flush=True)
        line = sys.stdin.readline()
        user = line.strip()
        if not line or user == "/exit":
            return 0
        if user == "/reset":
            conversation.reset()
            print("(the conversation starts over)", file=sys.stderr)
        elif user:
            try:
                conversation.add(user, reply(user))
            except ContextFullError as error:
                print(f"({error}: /reset to start over)", file=sys.stderr)


def dev(port: int, home: Path) -> int:
    """`dagster dev` on 127.0.0.1 with the project's definitions; replaces this process."""
    command = [sys.executable, "-m", "dagster", "dev", "-h", "127.0.0.1", "-p", str(port), "-m", DEFINITIONS_MODULE]
    print(f"DAGSTER_HOME={home}\n{' '.join(command)}", flush=True)
    os.execv(sys.executable, command)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
