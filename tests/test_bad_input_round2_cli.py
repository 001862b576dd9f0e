"""Bad input, round two, through the command line: literal output, one-line errors, runaway parameters, sweeps."""

import re

import pytest
import typer
from typer.testing import CliRunner

from sentiment.cli import app

runner = CliRunner()
FAST = ["--vector-size", "16", "--min-count", "2", "--epochs", "2", "--quiet"]
MARKUP = ["great [/] food", "[bold]awful[/bold] service [sic]", "[link=http://x]click[/link] here", "[red]", "a \\[b]"]


def _rows(n: int = 60, labels=("1", "0")) -> str:
    """A small CSV body: texts that tell the two labels apart, alternating."""
    words = ("great fun lovely tasty", "dull bad awful cold")
    return "".join(f"review {i} was {words[i % 2]} and {words[i % 2]},{labels[i % 2]}\n" for i in range(n))


@pytest.fixture(scope="module")
def model(shared_data, tmp_path_factory):
    target = tmp_path_factory.mktemp("round2") / "model"
    result = runner.invoke(app, ["train", str(shared_data / "uci" / "yelp_labelled.txt"), "-o", str(target), *FAST])
    assert result.exit_code == 0, result.output
    return target


# ------------------------------------------------------------------ 1. user text is never markup


@pytest.mark.parametrize("text", MARKUP)
def test_predicted_texts_print_literally(model, text):
    result = runner.invoke(app, ["predict", str(model), text])
    assert result.exit_code == 0, result.output
    assert text in result.stdout


def test_labels_file_names_and_paths_print_literally(tmp_path):
    data = tmp_path / "[bold]r[i].csv"
    data.write_text("text,label\n" + _rows(labels=("[red]yes[/red]", "no [x]")))
    target = tmp_path / "[i]m"
    trained = runner.invoke(app, ["train", str(data), "-o", str(target), *FAST])
    assert trained.exit_code == 0, trained.output
    assert "Held-out results ([bold]r[i].csv)" in trained.stdout
    assert f"Model saved to {target}" in trained.stdout
    evaluated = runner.invoke(app, ["evaluate", str(target), str(data), "--quiet"])
    assert evaluated.exit_code == 0, evaluated.output
    assert "[red]yes[/red]" in evaluated.stdout and "no [x]" in evaluated.stdout


def _commands(group, prefix=()):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _commands(command, (*prefix, name))
        else:
            yield (*prefix, name), command


COMMANDS = dict(_commands(typer.main.get_command(app)))


@pytest.mark.parametrize("path", list(COMMANDS), ids=" ".join)
def test_help_loses_no_text(path):
    """Every help text of every option shows whole: brackets are not taken for markup."""
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    shown = " ".join(result.stdout.replace("│", " ").split())
    helps = [command_help.split("\n")[0] for command_help in [COMMANDS[path].help or ""]]
    helps += [param.help for param in COMMANDS[path].params if getattr(param, "help", None)]
    assert helps
    for text in helps:
        assert " ".join(text.split()) in shown, text


def test_no_help_text_relies_on_brackets():
    """Square brackets in help are typer's [default: ...]; our own would be read as markup."""
    for path, command in COMMANDS.items():
        for param in command.params:
            assert not re.search(r"\[", getattr(param, "help", None) or ""), (path, param.name)
