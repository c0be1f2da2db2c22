"""A corpus of malformed raw input, each kind injected into a private landing copy of one real day.

Every kind runs the raw processors and `player_game_summary` for the day and must end in exactly the
expected typed failures (processor, category, entity type, entity id), with the file (and the line, for a
row) named in the reason, while every other game of the day is written and every input row is accounted
for (`input_rows = rows_written + failed_input_rows + excluded_input_rows`, and the asset check passes).
Kinds that are acceptable input land normally. The table in `docs/bad_input_outcomes.md` is this list.
"""

from __future__ import annotations

import datetime as dt
import gzip
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from nba_failures import settings
from nba_failures.failures.records import DATE_LEVEL_ENTITY_ID
from nba_failures.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_failures_tests import faults
from nba_failures_tests.harness import run_assets

DAY = dt.date(2023, 1, 15)
GAME = "202301150BRK"  # OKC at BKN: 34 listed players, 22 ACTIVE
FILE = f"gamebook/{DAY.isoformat()}/{GAME}.csv.gz"
PLAYER = "joshgiddey"  # ACTIVE for OKC, line 2 of FILE
PLAYER_LINE = 2
DNP_PLAYER = "mikemuscala"  # DNP for OKC, line 13 of FILE
DEN_GAME = "202301150DEN"
JOKIC = "nikolajokic"  # 'Nikola Jokić', ACTIVE; the registry lists 'Nikola Jokic' as an alias
TEAMMATE = "brucebrown"  # ACTIVE for DEN in DEN_GAME: 12 points
STRAY_GAME = "202301150ZZZ"
SELECTION = ["nbac_schedule", "nbac_gamebook_player_stats", "player_registry", "player_game_summary"]
CHECKED_PROCESSORS = ("nbac_gamebook_player_stats", "player_registry", "player_game_summary")
RAW, SUMMARY, REGISTRY = "nbac_gamebook_player_stats", "player_game_summary", "player_registry"
REGISTRY_FILE = "registry/player_registry.csv"
HOSTILE_SQL = "Robert'); DROP TABLE nba_analytics.player_game_summary;--"
TEN_KB = "x" * 10_240


@dataclass(frozen=True)
class Outcome:
    """What a kind of bad input must become."""

    failures: tuple[tuple[str, str, str, str], ...] = ()  # (processor, category, entity_type, entity_id)
    reason_has: tuple[str, ...] = ()  # every expected failure's reason names these (file, line…)
    raw_rows: int = 0  # raw rows written, relative to the clean day
    summary_rows: int = 0  # player_game_summary rows written, relative to the clean day
    touched_games: tuple[str, ...] = (GAME,)  # games whose rows may differ from the clean day


LANDED = Outcome()


def game_failed(category: str, game: str = GAME, rows_lost: bool = True, *reason_has: str) -> Outcome:
    """A whole file rejected: one GAME failure of the raw processor; the game's rows are not written."""
    raw, active = _game_rows(game)
    return Outcome(
        ((RAW, category, "GAME", game),),
        (FILE if game == GAME else game, *reason_has),
        -raw if rows_lost else 0,
        -active if rows_lost else 0,
    )


def row_rejected_at_raw(line: int, active_rows_lost: int = 1) -> Outcome:
    """One row that does not split into the header's fields: rejected by the raw processor, file named with line."""
    return Outcome(((RAW, "EXTRACTION_FAILED", "GAME", GAME),), (FILE, f"line {line}"), -1, -active_rows_lost)


def player_failed(
    entity: str = PLAYER, category: str = "PROCESSING_ERROR", *reason_has: str, raw_rows: int = 0, entity_type: str = "PLAYER"
) -> Outcome:
    """One row that lands in raw but cannot become a summary row: a failure of player_game_summary."""
    named = (FILE, f"line {PLAYER_LINE}") if category == "PROCESSING_ERROR" else ()
    return Outcome(((SUMMARY, category, entity_type, entity),), (*named, *reason_has), raw_rows, -1)


def _game_rows(game: str) -> tuple[int, int]:
    box = faults.boxscores(DAY)
    rows = box[box["game_id"] == game]
    return len(rows), len(faults.active(rows))


def _set(column: str, value: str, player: str = PLAYER, game: str = GAME) -> Callable[[Path], None]:
    return lambda landing: faults.set_player_value(landing, DAY, game, player, column, value) and None


def _set_many(game: str = GAME, player: str = PLAYER, **values: str) -> Callable[[Path], None]:
    def inject(landing: Path) -> None:
        # The row is found by its player_lookup: change that last.
        for column, value in sorted(values.items(), key=lambda item: item[0] == "player_lookup"):
            faults.set_player_value(landing, DAY, game, player, column, value)

    return inject


def _frame(edit: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[Path], None]:
    return lambda landing: faults.rewrite_game_file(landing, DAY, GAME, edit) and None


def _bytes(edit: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    return lambda landing: faults.edit_game_bytes(landing, DAY, GAME, edit) and None


def _line(line: int, edit: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    return lambda landing: faults.edit_game_line(landing, DAY, GAME, line, edit) and None


def _payload(payload: bytes) -> Callable[[Path], None]:
    return lambda landing: faults.write_raw_bytes(landing, DAY, GAME, payload) and None


def _truncated_gzip(landing: Path) -> None:
    path = faults.game_file(landing, DAY, GAME)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _as_plain_csv(landing: Path) -> None:
    gz = faults.game_file(landing, DAY, GAME)
    gz.with_name(f"{GAME}.csv").write_bytes(faults.game_file_bytes(landing, DAY, GAME))
    gz.unlink()


def _delivered_twice(landing: Path) -> None:
    gz = faults.game_file(landing, DAY, GAME)
    gz.with_name(f"{GAME}.csv").write_bytes(faults.game_file_bytes(landing, DAY, GAME))


def _blank_line_before_bad_row(landing: Path) -> None:
    faults.set_player_value(landing, DAY, GAME, PLAYER, "minutes", "DNP")
    faults.edit_game_bytes(landing, DAY, GAME, lambda data: data.replace(b"\n", b"\n\n", 1))


def _alias_only_spelling(landing: Path) -> None:
    faults.set_registry_value(landing, JOKIC, "aliases", "Nikola Jokic|Nikola Jokich")
    _set_many(DEN_GAME, JOKIC, player_lookup="", player_name="Nikola Jokich")(landing)


def _alias_as_listed_lookup(landing: Path) -> None:
    """The box score lists Jokic under a registry alias as his player_lookup."""
    faults.set_registry_value(landing, JOKIC, "aliases", "Nikola Jokic|thejoker")
    _set("player_lookup", "thejoker", JOKIC, DEN_GAME)(landing)


def _alias_shared_by_two_players(landing: Path) -> None:
    """Jokic and a teammate share an alias, and the box score lists the teammate under it."""
    faults.set_registry_value(landing, JOKIC, "aliases", "Nikola Jokic|thejoker")
    faults.set_registry_value(landing, TEAMMATE, "aliases", "thejoker")
    _set("player_lookup", "thejoker", TEAMMATE, DEN_GAME)(landing)


def _duplicate_lookup_first_in_file(landing: Path) -> None:
    """A second row for Jokic's lookup with another id, before his own in file order."""
    faults.insert_registry_row(
        landing, JOKIC, {"player_lookup": JOKIC, "universal_player_id": "nikolajokic_002", "player_name": "Nikola Jokic"}
    )


def _lookup_is_another_players_alias(landing: Path) -> None:
    """A teammate's alias normalizes to Jokic's lookup: two ids for one lookup."""
    faults.set_registry_value(landing, TEAMMATE, "aliases", "Nikola Jokic")


def ambiguous_lookup(lookup: str, *candidates: str) -> Outcome:
    """A lookup naming several registry identities: the registry check and the listing of it both fail, the
    listed player's row is lost and nobody else's."""
    failures = ((REGISTRY, "REGISTRY_LOOKUP_FAILED", "PLAYER", lookup), (SUMMARY, "REGISTRY_LOOKUP_FAILED", "PLAYER", lookup))
    return Outcome(failures, (f"'{lookup}' names {len(candidates)} registry identities", *candidates), 0, -1, (DEN_GAME,))


def _duplicate_row(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([frame, frame[frame["player_lookup"] == PLAYER]], ignore_index=True)


def _duplicate_points_column(data: bytes) -> bytes:
    header, *rows = data.split(b"\n")
    return b"\n".join([header + b",points", *(row + b",0" if row else row for row in rows)])


def _short_last_field_row(data: bytes) -> bytes:
    return data.rsplit(b",", 3)[0]


def _in_place_of_game_file(make: Callable[[Path, bytes], None]) -> Callable[[Path], None]:
    """The game's file removed, and `make(path, content)` puts something else at `GAME.csv.gz`."""

    def inject(landing: Path) -> None:
        path = faults.game_file(landing, DAY, GAME)
        content = path.read_bytes()
        path.unlink()
        make(path, content)

    return inject


def _symlink_to_copy(where: Callable[[Path], Path]) -> Callable[[Path], None]:
    """The game's file moved to `where(landing)`, a symlink left in its place."""

    def make(path: Path, content: bytes) -> None:
        target = where(path.parents[2]) / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        path.symlink_to(target)

    return _in_place_of_game_file(make)


def _sparse_200_mb_csv(landing: Path) -> None:
    """The game as plain CSV with 200 MB of NULs after it: a sparse file, so the test costs no disk or time
    unless the file is read."""
    path = faults.game_file(landing, DAY, GAME)
    plain = path.with_name(f"{GAME}.csv")
    plain.write_bytes(faults.game_file_bytes(landing, DAY, GAME))
    os.truncate(plain, 200 * 1024 * 1024)
    path.unlink()


def _beside_game_file(name: str, make: Callable[[Path, bytes], None]) -> Callable[[Path], None]:
    """`make(path, content)` puts something at `name` (relative to the gamebook folder), the game's own file kept."""

    def inject(landing: Path) -> None:
        make(landing / "gamebook" / name, faults.game_file(landing, DAY, GAME).read_bytes())

    return inject


def _directory(path: Path, content: bytes) -> None:
    path.mkdir(parents=True)
    (path / "inside.csv.gz").write_bytes(content)


def _file(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def _rows_repeated(times: int) -> Callable[[bytes], bytes]:
    def edit(data: bytes) -> bytes:
        header, body = data.split(b"\n", 1)
        return header + b"\n" + body * times

    return edit


def _uppercase_extension(landing: Path) -> None:
    path = faults.game_file(landing, DAY, GAME)
    path.rename(path.with_name(f"{GAME}.CSV.GZ"))


def _refused(category: str, *reason_has: str, name: str = FILE) -> Outcome:
    """The game's only file refused before reading: one GAME failure naming it, the game's rows not written."""
    return Outcome(((RAW, category, "GAME", GAME),), (name, *reason_has), -_game_rows(GAME)[0], -_game_rows(GAME)[1])


def _not_a_game_file(name: str) -> Outcome:
    """A file in the day folder whose name holds no game id: one DATE failure naming it; every game lands."""
    return Outcome(
        ((RAW, "VALIDATION_ERROR", "DATE", DATE_LEVEL_ENTITY_ID),), (f"gamebook/{DAY.isoformat()}/{name}", "no game id"), 0, 0, ()
    )


_RAW_ROWS, _ACTIVE_ROWS = _game_rows(GAME)

# kind -> (inject, outcome). Ids are the "input kind" column of docs/bad_input_outcomes.md.
CORPUS: dict[str, tuple[Callable[[Path], None], Outcome]] = {
    # ---- files that cannot be read: the game fails as a whole, the file is named
    "empty_file_0_bytes": (_payload(b""), game_failed("EXTRACTION_FAILED", GAME, True, "empty file")),
    "whitespace_only_file": (
        _payload(gzip.compress(b"   \n\t\n  \r\n")),
        game_failed("EXTRACTION_FAILED", GAME, True, "empty file"),
    ),
    "not_gzip_at_all": (_payload(b"this is not gzip\n"), game_failed("EXTRACTION_FAILED", GAME, True, "unreadable")),
    "truncated_gzip": (_truncated_gzip, game_failed("EXTRACTION_FAILED", GAME, True, "unreadable")),
    "non_utf8_bytes_latin1_name": (
        _line(PLAYER_LINE, lambda line: line.replace(b"Josh Giddey", "Josh Giddéy".encode("latin-1"))),
        game_failed("EXTRACTION_FAILED", GAME, True, "line 2", "not UTF-8"),
    ),
    "unterminated_quote": (
        _bytes(lambda data: data + b'"' + b"x,y\n"),
        game_failed("EXTRACTION_FAILED", GAME, True, "unreadable"),
    ),
    "header_only": (_frame(lambda frame: frame.iloc[0:0]), game_failed("EXTRACTION_FAILED", GAME, True, "header only")),
    # ---- header problems: schema drift, the game's rows counted as rejected
    "missing_columns": (
        _frame(lambda frame: frame.drop(columns=["points", "minutes"])),
        game_failed("SCHEMA_DRIFT", GAME, True, "'points'", "'minutes'"),
    ),
    "renamed_column": (
        _frame(lambda frame: frame.rename(columns={"points": "pts"})),
        game_failed("SCHEMA_DRIFT", GAME, True, "'points'"),
    ),
    "duplicate_column": (_bytes(_duplicate_points_column), game_failed("SCHEMA_DRIFT", GAME, True, "duplicate", "'points'")),
    "extra_column": (_frame(lambda frame: frame.assign(shoe_size="15")), LANDED),
    "reordered_columns": (_frame(lambda frame: frame.loc[:, list(reversed(frame.columns))]), LANDED),
    # ---- encodings and line endings that are acceptable
    "utf8_bom": (_bytes(lambda data: b"\xef\xbb\xbf" + data), LANDED),
    "crlf_line_endings": (_bytes(lambda data: data.replace(b"\n", b"\r\n")), LANDED),
    "uncompressed_csv": (_as_plain_csv, LANDED),
    "stray_quote_in_unquoted_field": (_line(PLAYER_LINE, lambda line: line.replace(b"Josh Giddey", b'Josh "Giddey')), LANDED),
    "blank_line_keeps_line_numbers": (
        _blank_line_before_bad_row,
        Outcome(((SUMMARY, "PROCESSING_ERROR", "PLAYER", PLAYER),), (FILE, "line 3", "minutes 'DNP'"), 0, -1),
    ),
    # ---- rows that do not split into the header's fields: that row rejected at raw, the rest of the file lands
    "too_many_fields_first_row": (_line(PLAYER_LINE, lambda line: line + b",EXTRA"), row_rejected_at_raw(PLAYER_LINE)),
    "too_few_fields_row": (_line(PLAYER_LINE, _short_last_field_row), row_rejected_at_raw(PLAYER_LINE)),
    # ---- files for the wrong game, or none
    "game_not_in_schedule": (
        lambda landing: faults.add_game_file(landing, DAY, STRAY_GAME, GAME) and None,
        Outcome(((RAW, "VALIDATION_ERROR", "GAME", STRAY_GAME),), (STRAY_GAME, "not in the schedule"), 0, 0, ()),
    ),
    "same_game_delivered_twice": (
        _delivered_twice,
        Outcome(((RAW, "VALIDATION_ERROR", "GAME", GAME),), (FILE, "already delivered"), 0, 0),
    ),
    "scheduled_game_without_file": (
        lambda landing: faults.remove_game_file(landing, DAY, GAME),
        Outcome(((RAW, "MISSING_RAW_DATA", "GAME", GAME),), (GAME,), -_RAW_ROWS, -_ACTIVE_ROWS),
    ),
    # ---- entries that are not game files to read: refused unopened, named relative to the landing directory
    "file_named_only_dot_csv": (_beside_game_file(f"{DAY.isoformat()}/.csv", _file), _not_a_game_file(".csv")),
    "file_named_placeholder_NULL_csv": (
        _beside_game_file(f"{DAY.isoformat()}/NULL.csv.gz", _file),
        _not_a_game_file("NULL.csv.gz"),
    ),
    "fifo_instead_of_game_file": (
        _in_place_of_game_file(lambda path, _: os.mkfifo(path)),
        _refused("VALIDATION_ERROR", "a FIFO"),
    ),
    "symlink_to_dev_zero": (
        _in_place_of_game_file(lambda path, _: path.symlink_to("/dev/zero")),
        _refused("VALIDATION_ERROR", "outside the landing directory"),
    ),
    "symlink_to_csv_outside_landing": (
        _symlink_to_copy(lambda landing: landing.parent / "elsewhere"),
        _refused("VALIDATION_ERROR", "outside the landing directory"),
    ),
    "symlink_to_missing_target": (
        _in_place_of_game_file(lambda path, _: path.symlink_to(path.parents[2] / "gone.csv.gz")),
        _refused("VALIDATION_ERROR", "does not exist"),
    ),
    "symlink_inside_landing": (_symlink_to_copy(lambda landing: landing / "archive"), LANDED),
    "directory_named_like_game_file": (
        _beside_game_file(f"{DAY.isoformat()}/{GAME}.csv", _directory),
        Outcome(((RAW, "VALIDATION_ERROR", "GAME", GAME),), (f"gamebook/{DAY.isoformat()}/{GAME}.csv:", "a directory")),
    ),
    "file_of_200_mb": (
        _sparse_200_mb_csv,
        _refused("EXTRACTION_FAILED", "209715200 bytes, over the limit", name=f"gamebook/{DAY.isoformat()}/{GAME}.csv"),
    ),
    "gzip_bomb_6_mb_decompressed": (
        _payload(gzip.compress(b"\0" * 6 * 1024 * 1024)),
        _refused("EXTRACTION_FAILED", "once decompressed"),
    ),
    "more_rows_than_the_limit": (_bytes(_rows_repeated(40)), _refused("EXTRACTION_FAILED", "more than 1000 rows")),
    "uppercase_extension_CSV_GZ": (_uppercase_extension, LANDED),
    "day_folder_not_iso_20230115": (_beside_game_file(f"{DAY.strftime('%Y%m%d')}/{GAME}.csv.gz", _file), LANDED),
    # ---- values of one row: that player fails with file and line, everyone else is written
    "minutes_DNP_for_active_player": (_set("minutes", "DNP"), player_failed(PLAYER, "PROCESSING_ERROR", "minutes 'DNP'")),
    "minutes_48:61": (_set("minutes", "48:61"), player_failed(PLAYER, "PROCESSING_ERROR", "minutes '48:61'")),
    "minutes_raw_48:61": (_set("minutes_raw", "48:61"), player_failed(PLAYER, "PROCESSING_ERROR", "minutes_raw '48:61'")),
    "minutes_out_of_range": (_set("minutes", "75"), player_failed(PLAYER, "PROCESSING_ERROR", "out of range")),
    "negative_stat": (_set("rebounds", "-3"), player_failed(PLAYER, "PROCESSING_ERROR", "rebounds -3 is negative")),
    "wrong_type_text_in_stat": (_set("assists", "nine"), player_failed(PLAYER, "PROCESSING_ERROR", "assists 'nine'")),
    "fractional_stat": (_set("assists", "9.5"), player_failed(PLAYER, "PROCESSING_ERROR", "assists '9.5'")),
    "infinite_stat": (_set("steals", "inf"), player_failed(PLAYER, "PROCESSING_ERROR", "steals 'inf'")),
    "huge_stat_1e30": (_set("blocks", "1e30"), player_failed(PLAYER, "PROCESSING_ERROR", "blocks '1e30'")),
    "points_inconsistent_with_shots": (_set("points", "27"), player_failed(PLAYER, "PROCESSING_ERROR", "points do not equal")),
    "made_exceeds_attempted": (
        _set("ft_attempted", "2"),
        player_failed(PLAYER, "PROCESSING_ERROR", "ft_made exceeds ft_attempted"),
    ),
    "null_ids_blank_lookup_and_name": (
        _set_many(player_lookup="", player_name=""),
        player_failed(GAME, "PROCESSING_ERROR", "neither player_lookup nor player_name", entity_type="GAME"),
    ),
    "null_ids_literal_NULL_lookup": (_set("player_lookup", "NULL"), LANDED),
    "null_ids_literal_NULL_everywhere": (
        _set_many(player_lookup="NULL", player_name="None"),
        player_failed(GAME, "PROCESSING_ERROR", "neither player_lookup nor player_name", entity_type="GAME"),
    ),
    "blank_game_id_in_row": (_set("game_id", ""), player_failed(PLAYER, "PROCESSING_ERROR", "not the game of its file")),
    "duplicate_row": (
        _frame(_duplicate_row),
        Outcome(((SUMMARY, "PROCESSING_ERROR", "PLAYER", PLAYER),), (FILE, "line 36", "duplicate"), 1, 0),
    ),
    "team_not_in_schedule": (
        _set("team_abbr", "XYZ"),
        player_failed(PLAYER, "PROCESSING_ERROR", "XYZ", "not the scheduled teams"),
    ),
    "future_game_date": (
        _set("game_date", "2099-01-15"),
        player_failed(PLAYER, "PROCESSING_ERROR", "2099-01-15 is not the landing date"),
    ),
    "game_date_not_a_date": (
        _set("game_date", "15/01/2023"),
        player_failed(PLAYER, "PROCESSING_ERROR", "'15/01/2023' is not a date"),
    ),
    "lowercase_status": (_set("player_status", "active"), LANDED),
    "minutes_DNP_for_DNP_player": (_set("minutes", "DNP", player=DNP_PLAYER), LANDED),
    "blank_plus_minus": (_set("plus_minus", ""), LANDED),
    "ten_kb_dnp_reason": (_set("dnp_reason", TEN_KB, player=DNP_PLAYER), LANDED),
    "ten_kb_player_lookup": (_set("player_lookup", TEN_KB), player_failed(TEN_KB, "REGISTRY_LOOKUP_FAILED")),
    # ---- names: accents resolve through the registry, quotes and SQL are data
    "plain_name_for_accented_player": (
        _set_many(DEN_GAME, JOKIC, player_lookup="", player_name="Nikola Jokic"),
        Outcome(touched_games=(DEN_GAME,)),
    ),
    "accented_uppercase_name": (
        _set_many(DEN_GAME, JOKIC, player_lookup="", player_name="NIKOLA JOKIĆ"),
        Outcome(touched_games=(DEN_GAME,)),
    ),
    "spelling_known_only_as_alias": (_alias_only_spelling, Outcome(touched_games=(DEN_GAME,))),
    "name_with_quote_not_registered": (
        _set_many(player_lookup="", player_name="Shaquille O'Neal"),
        player_failed("shaquilleoneal", "REGISTRY_LOOKUP_FAILED", "Shaquille O'Neal"),
    ),
    "sql_in_player_lookup": (
        _set("player_lookup", HOSTILE_SQL),
        player_failed(HOSTILE_SQL, "REGISTRY_LOOKUP_FAILED", HOSTILE_SQL),
    ),
    "emoji_only_name_no_lookup": (
        _set_many(player_lookup="", player_name="🏀🏀"),
        player_failed(GAME, "PROCESSING_ERROR", "neither player_lookup nor player_name", entity_type="GAME"),
    ),
    "nul_byte_in_field": (_set("dnp_reason", "a\x00b", player=DNP_PLAYER), LANDED),
    "unknown_player_status": (
        _set("player_status", "SUSPENDED"),
        player_failed(PLAYER, "PROCESSING_ERROR", "unknown player_status 'SUSPENDED'"),
    ),
    # ---- the registry: one identity per player, or a typed failure naming why not
    "alias_as_listed_lookup": (_alias_as_listed_lookup, Outcome(touched_games=(DEN_GAME,))),
    "alias_shared_by_two_players": (
        _alias_shared_by_two_players,
        ambiguous_lookup("thejoker", "brucebrown (brucebrown_001)", "nikolajokic (nikolajokic_001)"),
    ),
    "duplicate_lookup_in_registry": (
        _duplicate_lookup_first_in_file,
        ambiguous_lookup(JOKIC, "nikolajokic (nikolajokic_001)", "nikolajokic (nikolajokic_002)"),
    ),
    "lookup_is_another_players_alias": (
        _lookup_is_another_players_alias,
        ambiguous_lookup(JOKIC, "brucebrown (brucebrown_001)", "nikolajokic (nikolajokic_001)"),
    ),
    "registry_row_without_universal_player_id": (
        lambda landing: faults.set_registry_value(landing, JOKIC, "universal_player_id", ""),
        Outcome(
            ((REGISTRY, "VALIDATION_ERROR", "PLAYER", JOKIC), (SUMMARY, "REGISTRY_LOOKUP_FAILED", "PLAYER", JOKIC)),
            (),
            0,
            -1,
            (DEN_GAME,),
        ),
    ),
    "registry_row_without_lookup": (
        lambda landing: (
            faults.insert_registry_row(landing, JOKIC, {"universal_player_id": "ghost_001", "player_name": "Ghost"}) and None
        ),
        Outcome(((REGISTRY, "VALIDATION_ERROR", "PLAYER", "ghost_001"),), (REGISTRY_FILE, "no player_lookup"), touched_games=()),
    ),
}

_CASES = [pytest.param(inject, outcome, id=kind) for kind, (inject, outcome) in CORPUS.items()]


@pytest.fixture
def day_landing(season_landing: Path, tmp_path: Path) -> Path:
    return faults.copy_landing_day(season_landing, tmp_path / "landing", DAY)


def test_corpus_has_at_least_25_kinds() -> None:
    assert len(CORPUS) >= 25


@pytest.mark.parametrize(("inject", "outcome"), _CASES)
def test_bad_input(inject: Callable[[Path], None], outcome: Outcome, day_landing: Path, warehouse, request) -> None:
    inject(day_landing)
    result = run_assets(warehouse, day_landing, DAY, selection=SELECTION, raise_on_error=False)
    assert result.success, [str(event.event_specific_data) for event in result.all_events if event.is_failure]

    # Exactly the expected typed failures, each naming its file (and row).
    failures = faults.processor_failures(warehouse.path)
    failures = failures[failures["processor_name"].isin(CHECKED_PROCESSORS)]
    found = sorted(zip(failures["processor_name"], failures["failure_category"], failures["entity_type"], failures["entity_id"]))
    assert found == sorted(outcome.failures), failures["failure_reason"].tolist()
    for reason in failures["failure_reason"]:
        for expected in outcome.reason_has:
            assert expected[:900] in reason, (expected[:80], reason[:300])
        assert str(day_landing) not in reason, "files are named relative to the landing directory"
    from_files = failures[failures["failure_category"] != "MISSING_RAW_DATA"]
    assert from_files["source_file"].notna().all(), from_files.loc[:, ["failure_reason", "source_file"]]
    in_rows = from_files[from_files["processor_name"] == SUMMARY]
    assert in_rows["source_line"].notna().all()

    # The rest of the partition goes on: the clean day's rows, give or take this input's.
    box = faults.boxscores(DAY)
    raw = faults.read_table(warehouse.path, "nba_raw.nbac_gamebook_player_stats")
    summary = faults.read_table(warehouse.path, "nba_analytics.player_game_summary")
    assert len(raw) == len(box) + outcome.raw_rows
    assert len(summary) == len(faults.active(box)) + outcome.summary_rows
    untouched = faults.active(box[~box["game_id"].isin(outcome.touched_games)])
    assert (
        summary[~summary["game_id"].isin(outcome.touched_games)].groupby("game_id").size().to_dict()
        == untouched.groupby("game_id").size().to_dict()
    )

    # Every input row is accounted for, in the metadata and by the asset check.
    for asset_name in (RAW, SUMMARY):
        faults.assert_rows_accounted_for(faults.metadata(result, asset_name))
    checks = {evaluation.check_name: evaluation.passed for evaluation in result.get_asset_check_evaluations()}
    assert checks and all(checks.values()), checks


def test_landed_values_are_kept_as_data(day_landing: Path, warehouse) -> None:
    """Quotes, SQL, 10 KB strings, NUL and non-ASCII reach the warehouse unchanged, and the tables survive."""
    hostile = {"player_name": "Josh O'Gid\"dey 🏀 Jokić", "dnp_reason": TEN_KB, "player_id": HOSTILE_SQL}
    _set_many(**hostile)(day_landing)
    result = run_assets(warehouse, day_landing, DAY, selection=SELECTION)
    assert result.success
    raw = faults.read_table(warehouse.path, "nba_raw.nbac_gamebook_player_stats")
    row = raw[raw["player_lookup"] == PLAYER].iloc[0]
    assert {column: row[column] for column in hostile} == hostile
    summary = faults.read_table(warehouse.path, "nba_analytics.player_game_summary")
    assert len(summary) == len(faults.active(faults.boxscores(DAY)))


def test_accent_variants_resolve_to_one_player(day_landing: Path, warehouse) -> None:
    _alias_only_spelling(day_landing)
    assert run_assets(warehouse, day_landing, DAY, selection=SELECTION).success
    summary = faults.read_table(warehouse.path, "nba_analytics.player_game_summary")
    row = summary[summary["game_id"] == DEN_GAME]
    assert "nikolajokic_001" in set(row["universal_player_id"])


# ---- a schedule or registry that cannot be used: its asset fails the run with an error naming the file (and the
# row); nothing of the day is half written, other days stay, and the code location still loads.

OTHER_DAY = dt.date(2023, 1, 14)
TBD_GAME = "202302010BOS"  # a game of another day, its date made 'TBD'
SCHEDULE, REGISTRY_CSV = "schedule.csv.gz", "registry/player_registry.csv"


def _schedule_line(game: str) -> int:
    schedule = pd.read_csv(settings.BUNDLED_SEASON_DIR / SCHEDULE, dtype=str, keep_default_na=False)
    return int(schedule.index[schedule["game_id"] == game][0]) + 2


def _truncate(relative: str) -> Callable[[Path], None]:
    def inject(landing: Path) -> None:
        data = (landing / relative).read_bytes()
        (landing / relative).write_bytes(data[: len(data) // 2])

    return inject


def _remove(relative: str) -> Callable[[Path], None]:
    return lambda landing: (landing / relative).unlink()


def _tbd_game_date(landing: Path) -> None:
    schedule = pd.read_csv(landing / SCHEDULE, dtype=str, keep_default_na=False)
    schedule.loc[schedule["game_id"] == TBD_GAME, "game_date"] = "TBD"
    schedule.to_csv(landing / SCHEDULE, index=False, compression={"method": "gzip", "mtime": 0})


def _registry_row_with_extra_field(landing: Path) -> None:
    path = landing / REGISTRY_CSV
    lines = path.read_bytes().split(b"\n")
    lines[4] += b",stray"
    path.write_bytes(b"\n".join(lines))


# kind -> (inject, failing asset, what its error names)
BROKEN_LANDING: dict[str, tuple[Callable[[Path], None], str, tuple[str, ...]]] = {
    "schedule_truncated_gzip": (_truncate(SCHEDULE), "nbac_schedule", (SCHEDULE, "cannot be read")),
    "schedule_game_date_TBD": (
        _tbd_game_date,
        "nbac_schedule",
        (f"{SCHEDULE} line {_schedule_line(TBD_GAME)}: game_date 'TBD'",),
    ),
    "schedule_missing": (_remove(SCHEDULE), "nbac_schedule", (SCHEDULE, "has not landed")),
    "registry_missing": (_remove(REGISTRY_CSV), "player_registry", (REGISTRY_CSV, "has not landed")),
    "registry_row_with_extra_field": (_registry_row_with_extra_field, "player_registry", (REGISTRY_CSV, "line 5")),
}
BROKEN_SCHEDULES = [kind for kind, (_, asset_name, _) in BROKEN_LANDING.items() if asset_name == "nbac_schedule"]


def _step_errors(result) -> dict[str, str]:
    """Each failed step's error with its causes, by step."""
    errors = {}
    for event in result.all_events:
        if event.is_step_failure:
            error, chain = event.event_specific_data.error, []
            while error is not None:
                chain.append(error.to_string())
                error = error.cause
            errors[event.step_key] = "\n".join(chain)
    return errors


def _day_rows(warehouse_path: Path, day: dt.date) -> dict[str, pd.DataFrame]:
    return {
        "raw": faults.read_table(warehouse_path, "nba_raw.nbac_gamebook_player_stats", where=f"landing_date = DATE '{day}'"),
        "summary": faults.read_table(warehouse_path, "nba_analytics.player_game_summary", where=f"game_date = DATE '{day}'"),
    }


@pytest.mark.parametrize("kind", list(BROKEN_LANDING))
def test_broken_schedule_or_registry_fails_its_asset_clearly(
    kind: str, day_landing: Path, season_landing: Path, warehouse
) -> None:
    inject, asset_name, error_has = BROKEN_LANDING[kind]
    shutil.copytree(season_landing / "gamebook" / OTHER_DAY.isoformat(), day_landing / "gamebook" / OTHER_DAY.isoformat())
    assert run_assets(warehouse, day_landing, OTHER_DAY, selection=SELECTION).success
    other_day = _day_rows(warehouse.path, OTHER_DAY)
    assert len(other_day["summary"]) == len(faults.active(faults.boxscores(OTHER_DAY)))

    inject(day_landing)
    result = run_assets(warehouse, day_landing, DAY, selection=SELECTION, raise_on_error=False)
    assert not result.success
    errors = _step_errors(result)
    assert list(errors) == [asset_name], errors
    assert "LandingFileError: " in errors[asset_name], errors[asset_name]
    message = errors[asset_name].split("LandingFileError: ", 1)[1].splitlines()[0]
    for expected in error_has:
        assert expected in message, message

    # The other day is as it was, and the broken day has no summary rows built on a half-read input.
    for table, rows in _day_rows(warehouse.path, OTHER_DAY).items():
        pd.testing.assert_frame_equal(rows, other_day[table])
    assert _day_rows(warehouse.path, DAY)["summary"].empty


@pytest.mark.parametrize("kind", BROKEN_SCHEDULES)
def test_code_location_loads_and_serves_the_store_with_a_broken_schedule(kind: str, day_landing: Path, tmp_path: Path) -> None:
    """Partitions are derived from the landing schedule when the code location loads: a broken one falls back to
    the bundled season's days, so `summary` and `report` still print what is stored."""
    faults.remove_from_registry(day_landing, PLAYER)
    stored = DuckDBWarehouse(path=str(tmp_path / "store.duckdb"))
    assert run_assets(stored, day_landing, DAY, selection=[*SELECTION, "classified_failures"]).success
    BROKEN_LANDING[kind][0](day_landing)

    script = (
        "from nba_failures.cli import main; from nba_failures.definitions import defs; "
        "from nba_failures.partitions import daily_partitions; "
        "print('partitions', daily_partitions.get_partition_keys()[0], len(defs.resolve_asset_graph().get_all_asset_keys())); "
        "main(['summary']); main(['report', '--view', 'recent', '--format', 'csv'])"
    )
    env = {
        **os.environ,
        settings.LANDING_DIR_ENV: str(day_landing),
        settings.DUCKDB_PATH_ENV: stored.path,
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
    }
    (tmp_path / "dagster_home").mkdir()
    completed = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=180, check=False)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "partitions 2022-10-18" in completed.stdout
    assert "REGISTRY_LOOKUP_FAILED" in completed.stdout  # the summary
    assert f"{PLAYER}," in completed.stdout  # the report's recent failures
