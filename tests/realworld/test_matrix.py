"""The README's ecosystem matrix is the one the realworld expectations generate."""

from tests.realworld.matrix import BEGIN, END, README, table


def test_the_readme_matrix_is_generated_from_the_expectations() -> None:
    text = README.read_text()
    generated = text[text.index(BEGIN) + len(BEGIN) : text.index(END)].strip()
    assert generated == table(), "run: uv run python -m tests.realworld.matrix --readme"
