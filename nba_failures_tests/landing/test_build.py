import threading
from pathlib import Path

import pandas as pd

from nba_failures.landing import build
from nba_failures.landing.contract import REGISTRY_FILE, SCHEDULE_FILE, read_schedule
from nba_failures.settings import BUNDLED_SEASON_DIR


def test_builders_racing_for_the_default_landing_lay_it_out_once_and_whole(tmp_path, monkeypatch):
    """Parallel steps or test workers that find the default landing missing all get a complete one."""
    default = tmp_path / "landing" / "season_2022_23"
    monkeypatch.setattr(build, "DEFAULT_LANDING_DIR", default)
    builds = []
    counting_build = build.build_landing_from_bundle
    monkeypatch.setattr(build, "build_landing_from_bundle", lambda out: builds.append(out) or counting_build(out))
    errors: list[BaseException] = []

    def ensure() -> None:
        try:
            build.ensure_default_landing(default)
        except BaseException as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    workers = [threading.Thread(target=ensure) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    assert builds == [default]
    games = pd.read_csv(BUNDLED_SEASON_DIR / "player_boxscores.csv.gz", usecols=["game_id"], dtype=str)["game_id"].nunique()
    assert len(list(default.glob("gamebook/*/*.csv.gz"))) == games
    assert (default / REGISTRY_FILE).is_file()
    assert len(read_schedule(default)) == len(read_schedule(BUNDLED_SEASON_DIR))
    assert sorted(path.name for path in default.parent.iterdir()) == ["season_2022_23", "season_2022_23.lock"]


def test_an_existing_landing_directory_is_left_as_it_is(tmp_path: Path, monkeypatch):
    default = tmp_path / "season_2022_23"
    (default).mkdir()
    (default / SCHEDULE_FILE).write_bytes(b"kept")
    monkeypatch.setattr(build, "DEFAULT_LANDING_DIR", default)
    build.ensure_default_landing(default)
    assert (default / SCHEDULE_FILE).read_bytes() == b"kept"
