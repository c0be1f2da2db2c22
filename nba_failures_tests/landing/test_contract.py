"""The schedule's game dates as the code location reads them when it loads (csv module, no pandas) are the dates of
`read_schedule`, and a schedule `read_schedule` refuses is refused too."""

import gzip
from collections.abc import Callable
from pathlib import Path

import pytest

from nba_failures.landing.contract import SCHEDULE_FILE, LandingFileError, read_schedule, schedule_game_dates
from nba_failures.settings import BUNDLED_SEASON_DIR

Edit = Callable[[list[str]], list[str]]


def _with_game_date(line: str, game_date: str) -> str:
    game_id, _, rest = line.split(",", 2)
    return f"{game_id},{game_date},{rest}"


READ: dict[str, Edit] = {
    "as bundled": lambda lines: lines,
    "blank and empty rows": lambda lines: [lines[0], "", lines[1], ",,,", *lines[2:], ""],
    "byte order mark": lambda lines: ["\ufeff" + lines[0], *lines[1:]],
    "one-digit month and day": lambda lines: [lines[0], _with_game_date(lines[1], "2023-1-5"), *lines[2:]],
    "a short row": lambda lines: [lines[0], ",".join(lines[1].split(",")[:5]), *lines[2:]],
    "quoted fields": lambda lines: [lines[0], ",".join(f'"{field}"' for field in lines[1].split(",")), *lines[2:]],
}
REFUSED: dict[str, Edit] = {
    "game_date TBD": lambda lines: [lines[0], *lines[1:9], _with_game_date(lines[9], "TBD"), *lines[10:]],
    "game_date of no day": lambda lines: [lines[0], _with_game_date(lines[1], "2023-02-30"), *lines[2:]],
    "game_date with a time": lambda lines: [lines[0], _with_game_date(lines[1], "2023-01-05 19:30"), *lines[2:]],
    "a row with an extra field": lambda lines: [*lines[:4], lines[4] + ",stray", *lines[5:]],
    "no game_date column": lambda lines: [line.replace(",", ";", 2) for line in lines],
    "empty": lambda lines: [],
}


def _land(landing: Path, lines: list[str]) -> None:
    (landing / SCHEDULE_FILE).write_bytes(gzip.compress("\n".join(lines).encode()))


def _bundled_lines() -> list[str]:
    return gzip.decompress((BUNDLED_SEASON_DIR / SCHEDULE_FILE).read_bytes()).decode().splitlines()


@pytest.mark.parametrize("kind", list(READ))
def test_the_game_dates_are_those_of_read_schedule(kind: str, tmp_path: Path) -> None:
    _land(tmp_path, READ[kind](_bundled_lines()))
    assert schedule_game_dates(tmp_path) == read_schedule(tmp_path)["game_date"].tolist()


@pytest.mark.parametrize("kind", list(REFUSED))
def test_a_schedule_read_schedule_refuses_is_refused(kind: str, tmp_path: Path) -> None:
    _land(tmp_path, REFUSED[kind](_bundled_lines()))
    with pytest.raises(LandingFileError) as by_pandas:
        read_schedule(tmp_path)
    with pytest.raises(LandingFileError) as by_csv:
        schedule_game_dates(tmp_path)
    if "game_date" in kind:
        assert str(by_csv.value) == str(by_pandas.value)  # the same line and value named


def test_a_schedule_that_cannot_be_read_is_refused_alike(tmp_path: Path) -> None:
    with pytest.raises(LandingFileError, match="has not landed"):
        schedule_game_dates(tmp_path)
    (tmp_path / SCHEDULE_FILE).write_bytes(gzip.compress("\n".join(_bundled_lines()).encode())[:200])
    with pytest.raises(LandingFileError) as by_pandas:
        read_schedule(tmp_path)
    with pytest.raises(LandingFileError) as by_csv:
        schedule_game_dates(tmp_path)
    assert str(by_csv.value) == str(by_pandas.value)  # EOFError: the truncated gzip, named alike
