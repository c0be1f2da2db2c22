"""The README's table docs are generated from the one schema definition, and stay in step with it."""

from pathlib import Path

from nba_failures.catalog import all_tables, readme_with_tables
from nba_failures.settings import PROJECT_DIR


def test_readme_table_docs_match_the_schema_definitions():
    readme = (PROJECT_DIR / "README.md").read_text()
    assert readme == readme_with_tables(readme), "run: nba-failures docs tables --readme README.md"


def test_every_table_is_documented_once_with_every_column():
    readme = (PROJECT_DIR / "README.md").read_text()
    for table in all_tables():
        assert readme.count(f"### `{table.qualified_name}`") == 1
        for column in table.columns:
            assert f"| `{column.name}` | {column.type.value} |" in readme


def test_the_readme_has_exactly_two_setup_commands_and_ci_runs_the_test_one():
    readme = (PROJECT_DIR / "README.md").read_text()
    setup = readme.split("## Set up on a fresh machine")[1].split("```bash")[1].split("```")[0]
    commands = [line.split("#")[0].strip() for line in setup.strip().splitlines()]
    assert commands == ["./scripts/demo", "./scripts/test"]
    assert "./scripts/test" in Path(PROJECT_DIR / ".ci" / "run").read_text()
