"""Every worked example reproduces the digits its lecture publishes, and prints them."""

import pytest

from mlpkit.lectures.worked_examples import LECTURES, Check, lecture, worked_example


@pytest.mark.parametrize("name", sorted(LECTURES))
def test_worked_example_matches_published_digits(name):
    example = worked_example(name)
    assert example.checks
    for check in example.checks:
        assert check.ok, f"{check.label}: mlpkit {check.computed!r}, lecture {check.published}"


@pytest.mark.parametrize("name", sorted(LECTURES))
def test_printout_shows_every_published_number(name):
    example = worked_example(name)
    text = lecture(name)
    assert text.startswith(example.title) and example.source in text
    assert "MISMATCH" not in text
    for check in example.checks:
        assert f"lecture: {check.published}," in text
        if check.tolerance is None:  # rounded like the lecture, the digits are the same
            assert check.shown == check.published
            assert f"{check.label} = {check.published}" in " ".join(text.split())


PUBLISHED = {
    "backprop-2-2-2": {
        "out_h1": "0.593269992", "out_o1": "0.75136507", "out_o2": "0.772928465",
        "E_total": "0.298371109", "w5 after": "0.35891648", "w6 after": "0.408666186",
        "w7 after": "0.511301270", "w8 after": "0.561370121", "w1 after": "0.149780716",
        "w2 after": "0.19956143", "w3 after": "0.24975114", "w4 after": "0.29950229",
    },
    "momentum-2-2-1": {
        "o": "0.552", "δ_out (lecture sign, −∂E/∂z)": "0.086", "δ_hidden (lecture sign)": "0.002",
        "output bias after": "0.1172", "output weights after": "0.1095",
        "hidden bias after": "0.1004", "first-input weights after": "0.1004",
        "second-input weights after": "0.1",
    },
    "chain-rule": {"∂P/∂w1": "-11", "∂P/∂w2": "1", "∂P/∂w3": "15"},
    "forward-3-input": {"h1": "0.547", "h2": "0.470", "o1": "0.461", "o2": "0.455"},
    "xor-step": {"XOR(0, 0)": "0", "XOR(0, 1)": "1", "XOR(1, 0)": "1", "XOR(1, 1)": "0"},
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_numbers_are_the_issue_and_lecture_digits(name):
    # the digits are typed here a second time, from the issue and the decks, so that an
    # edit of lectures.py cannot silently loosen what is checked
    checks = {check.label: check for check in worked_example(name).checks}
    for label, published in PUBLISHED[name].items():
        assert checks[label].published == published
        assert checks[label].ok


def test_momentum_example_traces_a_second_step_with_momentum():
    text = lecture("momentum-2-2-1")
    assert "Time step 2" in text and "α Δw(t−1)" in text
    assert "opposite sign" in text


def test_check_rounding_rules():
    assert Check("x", 0.59326999, "0.593270").ok
    assert Check("x", 0.5934, "0.593").ok and not Check("x", 0.5936, "0.593").ok
    assert Check("x", -0.156475, "-0.1564", tolerance=1e-4).ok
    assert Check("x", 0.0004, "0.000").shown == "0.000"


def test_unknown_name():
    with pytest.raises(ValueError, match="name must be one of"):
        lecture("nope")


def test_cli_lecture_prints_the_example(capsys):
    from mlpkit.cli.main import main

    assert main(["lecture", "momentum-2-2-1"]) == 0
    out = capsys.readouterr().out
    assert "output weights after" in out and "lecture: 0.1095" in out
    assert main(["lecture", "nope"]) == 2
    assert "invalid choice" in capsys.readouterr().err
