"""The playground page in headless Chromium (Debian's /usr/bin/chromium driven by Playwright).

Skipped when Chromium, Playwright or the 'playground' extra is missing, unless
MLPKIT_REQUIRE_BROWSER=1 (set by .ci/run), which turns the skip into a failure: in CI they run.
"""

from __future__ import annotations

import io
import os
import shutil
import threading
import time

import numpy as np
import pytest

import mlpkit

REQUIRED = os.environ.get("MLPKIT_REQUIRE_BROWSER") == "1"
CHROMIUM = os.environ.get("MLPKIT_CHROMIUM", "/usr/bin/chromium")
TIMEOUT_MS = 120_000  # generous: CI machines are small and shared


def missing(why: str):
    if REQUIRED:
        pytest.fail(f"MLPKIT_REQUIRE_BROWSER=1 but {why}")
    pytest.skip(why)


@pytest.fixture(scope="module")
def server_url():
    try:
        import uvicorn

        from mlpkit.playground.server import _bind, create_app, warm_up
    except ImportError as error:
        missing(f"the 'playground' extra is not installed ({error})")
    sock = _bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    app = create_app([f"127.0.0.1:{port}"])
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    warm_up()  # the compiled kernels, before any page presses play
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/", app
    server.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed (pip install playwright: the dev extra)")
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        missing(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(server_url, browser):
    url, _ = server_url
    pages = []

    def open_(fragment: str = ""):
        # bypass_csp: Playwright polls its wait_for_function predicates with eval(), which
        # the page's own policy (no eval) forbids; the policy itself is tested without a browser
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, bypass_csp=True)
        page.set_default_timeout(TIMEOUT_MS)
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url + fragment)
        page.wait_for_function("window.__playground && window.__playground.frame !== null")
        page.js_errors = errors
        pages.append(page)
        return page

    yield open_
    for page in pages:
        assert page.js_errors == [], page.js_errors
        page.close()


def number(page, testid: str) -> float:
    return float(page.get_by_test_id(testid).inner_text())


def pause(page) -> None:
    if page.evaluate("window.__playground.playing"):
        page.get_by_test_id("play").click()
    page.wait_for_function("!window.__playground.looping")


@pytest.mark.parametrize("dataset", ["circle", "xor"])
def test_play_raises_the_epoch_and_lowers_the_test_loss(open_page, dataset):
    page = open_page(f"#dataset={dataset}&features=x1,x2&hidden=4,2")
    first = number(page, "test-loss")
    assert number(page, "epoch") == 0 and first > 0.3
    page.get_by_test_id("play").click()
    page.wait_for_function("window.__playground.frame.test_loss < 0.1"
                           " || window.__playground.frame.epoch >= 300")
    pause(page)
    epoch, last = number(page, "epoch"), number(page, "test-loss")
    assert epoch >= 2
    assert last < 0.1 < first  # mlpkit needs 29 (circle) and 60 (xor) epochs for it


def test_step_once_then_reset(open_page):
    page = open_page("#dataset=circle")
    page.get_by_test_id("step").click()
    page.wait_for_function("window.__playground.frame.epoch === 1")
    assert page.get_by_test_id("epoch").inner_text() == "1"
    page.get_by_test_id("reset").click()
    page.wait_for_function("window.__playground.frame.epoch === 0")
    assert page.get_by_test_id("epoch").inner_text() == "0"


def test_change_the_dataset_and_the_layers(open_page):
    page = open_page()
    values = page.eval_on_selector_all("[data-testid=dataset] option", "os => os.map(o => o.value)")
    assert {"circle", "xor", "gauss", "spiral"} <= set(values)
    page.get_by_test_id("dataset").select_option("spiral")
    page.wait_for_function("location.hash.includes('dataset=spiral')")  # the server's answer
    assert page.evaluate("window.__playground.trainPoints.length") == 250
    page.get_by_test_id("add-layer").click()
    page.wait_for_function("window.__playground.sizes.length === 5")
    assert page.get_by_test_id("layer-count").inner_text() == "3 hidden layers"
    assert page.get_by_test_id("unit-3-2").is_visible()
    page.get_by_test_id("add-unit-1").click()
    page.wait_for_function("window.__playground.sizes[1] === 5")
    page.get_by_test_id("remove-layer").click()
    page.get_by_test_id("remove-layer").click()
    page.wait_for_function("window.__playground.sizes.length === 3")
    assert page.get_by_test_id("layer-count").inner_text() == "1 hidden layer"
    assert "hidden=5" in page.evaluate("location.hash")


def test_no_hidden_layer_and_a_regression_set(open_page):
    page = open_page("#hidden=&dataset=reg-gauss&features=x1,x2,sinx1")
    assert page.evaluate("window.__playground.sizes") == [3, 1]
    assert page.evaluate("window.__playground.problem") == "regression"
    page.get_by_test_id("step").click()
    page.wait_for_function("window.__playground.frame.epoch === 1")
    page.get_by_test_id("feature-x1sq").click()  # a fourth input
    page.wait_for_function("window.__playground.sizes[0] === 4")


def test_the_url_holds_the_whole_configuration(open_page):
    page = open_page("#dataset=gauss&hidden=3,3&activation=relu&learning_rate=0.1&noise=20"
                     "&features=x1,x2,x1x2&seed=9")
    state = page.evaluate("window.__playground.config")
    assert state["dataset"] == "gauss" and state["hidden"] == [3, 3]
    assert state["features"] == ["x1", "x2", "x1x2"] and state["seed"] == 9
    assert page.get_by_test_id("learning-rate").input_value() == "0.1"
    assert page.get_by_test_id("activation").input_value() == "relu"
    assert page.evaluate("window.__playground.sizes") == [3, 3, 3, 1]


def test_every_control_is_in_the_url_and_a_link_reproduces_them(open_page):
    page = open_page("#dataset=xor&epochs_per_update=5&show_test=true&discretize=true")
    assert page.get_by_test_id("epochs-per-update").input_value() == "5"
    assert page.get_by_test_id("show-test").is_checked()
    assert page.get_by_test_id("discretize").is_checked()
    page.get_by_test_id("step").click()  # one update: epochs_per_update epochs
    page.wait_for_function("window.__playground.frame.epoch === 5")
    # every setting's control (the lecture panel's point is not a setting) has its URL key
    keys = set(page.evaluate("location.hash.slice(1).split('&').map(p => p.split('=')[0])"))
    controls = page.eval_on_selector_all(
        "select, input", "els => els.filter(e => !e.closest('#lecture')).map(e => e.id)")
    view = {"show-test": "show_test"}  # the page's own settings: URL key by checkbox id
    assert len(controls) >= 17 and {view.get(c, c) for c in controls} <= keys
    # a change goes into the URL, and a link with it gives the same settings
    page.get_by_test_id("epochs-per-update").select_option("2")
    page.wait_for_function("location.hash.includes('epochs_per_update=2')")
    page.get_by_test_id("show-test").uncheck()
    assert "show_test=false" in page.evaluate("location.hash")
    again = open_page(page.evaluate("location.hash"))
    assert again.evaluate("window.__playground.config") == page.evaluate(
        "window.__playground.config")
    assert not again.get_by_test_id("show-test").is_checked()
    assert again.get_by_test_id("discretize").is_checked()
    assert again.get_by_test_id("epochs-per-update").input_value() == "2"


def test_the_lecture_panel_shows_the_delta_that_trace_step_computes(open_page):
    page = open_page("#dataset=circle&seed=7&hidden=3")
    page.get_by_test_id("lecture-panel").locator("summary").click()
    page.get_by_test_id("lecture-point").fill("5")
    page.get_by_test_id("lecture-trace").click()
    page.wait_for_function("window.__playground.lastTrace && window.__playground.lastTrace.point"
                           " === 5")
    shown = float(page.get_by_test_id("delta-1-2").get_attribute("data-value"))
    text = page.get_by_test_id("delta-1-2").inner_text()

    # the same network and point, from the public API: weights from seed + 1, data from seed
    from mlpkit.playground import datasets

    X, y = datasets.make_dataset("circle", 500, 0.0, seed=7)
    x, t = X[5:6], np.where(y[5:6] == 1, 1.0, -1.0).reshape(1, 1)
    network = mlpkit.mlp([2, 3, 1], activation="tanh", init="glorot", seed=8, dtype=np.float64)
    trace = mlpkit.trace_step(network, x, t, "squared_error", mlpkit.SGD(0.03))
    assert shown == trace.layers[0].delta[0, 1]
    assert abs(float(text) - shown) <= 1e-5 * abs(shown)

    # a link: its gradient and update terms
    page.get_by_test_id("link-1-1-2").dispatch_event("click")  # thin curves cross
    gradient = float(page.get_by_test_id("link-gradient").get_attribute("data-value"))
    assert gradient == trace.layers[0].parameters[0].gradient[0, 1]
    term = float(page.get_by_test_id("term-gradient").get_attribute("data-value"))
    assert term == pytest.approx(-0.03 * gradient, rel=1e-12)


def test_the_2_2_2_preset_and_one_sample(open_page):
    page = open_page()
    page.get_by_test_id("preset").select_option("backprop-2-2-2")
    page.wait_for_function("location.hash.includes('preset=backprop-2-2-2')")
    page.get_by_test_id("lecture-panel").locator("summary").click()
    page.wait_for_function("window.__playground.lastTrace !== null")
    example = {c.label: c for c in mlpkit.worked_example("backprop-2-2-2").checks}
    out_o1 = float(page.get_by_test_id("a-2-1").get_attribute("data-value"))
    assert abs(out_o1 - float(example["out_o1"].published)) <= example["out_o1"].allowed
    page.get_by_test_id("one-sample").click()
    page.wait_for_function("window.__playground.frame.updates === 1")
    w5 = page.evaluate("window.__playground.frame.layers[1].weights[0][0]")
    assert abs(w5 - float(example["w5 after"].published)) <= example["w5 after"].allowed
    assert page.get_by_test_id("epoch").inner_text() == "0"  # one update, not an epoch


def test_a_bad_message_shows_an_error_and_the_server_keeps_answering(open_page):
    page = open_page()
    page.evaluate("window.__playground.ws.send('{\"type\": \"train\", \"epochs\": 10**9}')")
    error = page.get_by_test_id("error")
    error.wait_for(state="visible")
    assert "JSON" in error.inner_text()
    page.get_by_test_id("step").click()
    page.wait_for_function("window.__playground.frame.epoch === 1")


def test_a_refused_setting_is_shown_and_the_page_takes_the_servers_back(open_page):
    page = open_page("#seed=4")
    page.get_by_test_id("seed").fill("-5")
    page.get_by_test_id("seed").dispatch_event("change")
    error = page.get_by_test_id("error")
    error.wait_for(state="visible")
    assert "seed must be an integer in [0, 2147483647], got -5" in error.inner_text()
    page.wait_for_function("window.__playground.config.seed === 4")
    assert page.get_by_test_id("seed").input_value() == "4" and error.is_visible()


def test_two_tabs_have_their_own_network(open_page):
    one, two = open_page("#hidden=4,2"), open_page("#hidden=4,2")
    one.get_by_test_id("add-layer").click()
    one.wait_for_function("window.__playground.sizes.length === 5")
    two.get_by_test_id("step").click()
    two.wait_for_function("window.__playground.frame.epoch === 1")
    assert two.evaluate("window.__playground.sizes") == [2, 4, 2, 1]
    assert one.evaluate("window.__playground.frame.epoch") == 0


def test_download_the_model_file(open_page, tmp_path):
    page = open_page()
    page.get_by_test_id("step").click()
    page.wait_for_function("window.__playground.frame.epoch === 1")
    with page.expect_download() as info:
        page.get_by_test_id("download-model").click()
    path = tmp_path / "model.mlpk"
    info.value.save_as(path)
    assert mlpkit.load(path).sizes == [2, 4, 2, 1]


def test_a_screenshot_is_not_blank(open_page):
    plt = pytest.importorskip("matplotlib.pyplot")
    page = open_page("#dataset=xor")
    page.get_by_test_id("step").click()
    page.wait_for_function("window.__playground.frame.epoch === 1")
    image = plt.imread(io.BytesIO(page.screenshot()), format="png")[..., :3]
    assert image.shape[0] > 500 and image.std() > 0.1
    heat = plt.imread(io.BytesIO(page.get_by_test_id("output-heatmap").screenshot()),
                      format="png")[..., :3]
    colours = np.unique((heat * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 50  # a heatmap with points, not one flat colour
