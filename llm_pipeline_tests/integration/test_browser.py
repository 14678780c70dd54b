"""The web UI in a real browser: Debian's Chromium, headless, driven by Playwright.

The webserver runs on 127.0.0.1 in its own process group over a temporary instance and a small
raw data directory. The test checks the asset graph shows every stage, launches the dataset job
and then the checkpoint from the UI's launchpad, waits for both runs to succeed, and opens the
learning-curve plot on the checkpoint asset. The screenshot is saved in the test's tmp dir and
copied to /tmp/llm_pipeline_browser.png.
"""

import re
import shutil
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect, sync_playwright

from llm_pipeline.definitions import defs
from llm_pipeline_tests.support import REPO_ROOT
from llm_pipeline_tests.support.services import running_webserver, small_qa_data_dir

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]  # fmt: skip
SCREENSHOT_COPY = Path("/tmp/llm_pipeline_browser.png")
RUN_TIMEOUT_MS = 180_000
# By default every step of a run starts its own process (minutes on two busy cores); one
# process runs the same steps in seconds.
IN_ONE_PROCESS = "execution:\n  config:\n    in_process: {}\n"
# The tiny local model, fully trained for 40 steps: a learning curve with several points.
QUICK_TRAINING = """ops:
  checkpoint:
    config:
      method: full
      learning_rate: 0.003
      max_steps: 40
      eval_steps: 5
      logging_steps: 5
"""

# True once no ancestor of the element is still fading in.
FULLY_SHOWN = """element => {
  for (let node = element; node; node = node.parentElement) {
    if (getComputedStyle(node).opacity !== "1") return false;
  }
  return true;
}"""

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium not installed (apt-get install -y chromium)"),
]


def webserver_instance(home: Path) -> Path:
    """The project's instance, with runs started by the webserver itself instead of a daemon.

    Without a daemon no sensor ticks: the automation sensors would otherwise start their own runs
    of the same assets while the test launches them from the UI.
    """
    config = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())
    config["run_coordinator"] = {"module": "dagster._core.run_coordinator", "class": "DefaultRunCoordinator"}
    config["telemetry"] = config["nux"] = {"enabled": False}  # or a welcome dialog covers the page
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    return home


def launch_from_launchpad(page, run_config: str) -> str:
    """Open the launchpad from the Materialize menu, enter `run_config`, launch, and follow the run to success."""
    # The menu opens only once the page has loaded what it would materialize.
    expect(page.locator("button", has_text=re.compile(r"^Materialize( all)?$")).first).to_be_enabled()
    open_launchpad = page.get_by_role("menuitem", name="Open launchpad")
    for _ in range(3):
        page.get_by_role("button", name="arrow_drop_down").first.click()
        try:
            open_launchpad.wait_for(timeout=5_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    open_launchpad.click()
    editor = page.get_by_role("dialog").locator(".CodeMirror")
    # Wait for the scaffolded defaults, then replace them (typing would fight the auto-indent).
    page.wait_for_function("editor => editor.CodeMirror.getValue().length > 0", arg=editor.element_handle())
    editor.evaluate("(editor, text) => editor.CodeMirror.setValue(text)", run_config)
    page.get_by_role("dialog").get_by_text("No errors").wait_for()
    page.get_by_role("dialog").locator("button", has_text=re.compile(r"^Materialize$")).click()
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]{36}$"))
    outcome = page.get_by_text(re.compile(r"^(Success|Failure|Canceled)$")).first
    outcome.wait_for(timeout=RUN_TIMEOUT_MS)
    assert outcome.inner_text() == "Success", f"run {page.url} ended in {outcome.inner_text()}"
    return page.url


def test_ui_builds_the_dataset_and_shows_the_learning_curve(tmp_path):
    env = {
        "DAGSTER_HOME": str(webserver_instance(tmp_path / "dagster_home")),
        "LLM_PIPELINE_DATA_DIR": str(small_qa_data_dir(tmp_path / "data")),
        "OMP_NUM_THREADS": "1",
    }
    stages = sorted(key.to_user_string() for key in defs.get_repository_def().asset_graph.get_all_asset_keys())
    screenshot = tmp_path / "checkpoint_learning_curve.png"

    with (
        running_webserver("llm_pipeline.definitions", env, tmp_path / "webserver.log") as base_url,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.set_default_timeout(30_000)

        # The global lineage, every group expanded (Alt+E): every stage is a node.
        page.goto(f"{base_url}/asset-groups")
        page.get_by_text("Materialize all").first.wait_for()
        page.keyboard.press("Alt+e")
        for stage in stages:
            expect(page.get_by_text(stage, exact=True).first).to_be_visible()
        page.screenshot(path=str(tmp_path / "asset_graph.png"))

        # The dataset job, from its page.
        page.goto(f"{base_url}/jobs")
        page.locator("a[href$='/jobs/prepare_dataset']").first.click()
        launch_from_launchpad(page, IN_ONE_PROCESS)

        # Then the checkpoint, from its asset page, with a short training run.
        page.goto(f"{base_url}/assets/checkpoint")
        launch_from_launchpad(page, IN_ONE_PROCESS + QUICK_TRAINING)

        # The learning curve: a PNG inside the materialization's markdown metadata.
        page.goto(f"{base_url}/assets/checkpoint")
        plot_row = page.locator("tr", has=page.get_by_text("learning_curve_plot", exact=True))
        plot_row.get_by_text("[Show Markdown]").click()
        dialog = page.get_by_role("dialog")
        expect(dialog.get_by_text("learning_curve_plot", exact=True)).to_be_visible()
        plot = dialog.locator("img[src^='data:image/png']")
        plot.wait_for()
        width, height = plot.evaluate("image => [image.naturalWidth, image.naturalHeight]")
        assert width > 200 and height > 100  # the image decoded, not a broken icon
        page.wait_for_function(FULLY_SHOWN, arg=plot.element_handle())  # the dialog has faded in
        page.screenshot(path=str(screenshot))
        browser.close()

    shutil.copy(screenshot, SCREENSHOT_COPY)
