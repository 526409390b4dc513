"""Issue 14: meterrisk serve lists its schedules; progress shows on a terminal only."""

def test_serve_lists_each_deployment_with_cron_zone_and_next_run():
    from datetime import datetime, timezone

    from pipelines.deployments import SCHEDULES, deployments, schedule_lines

    assert [name for name, _ in SCHEDULES] == [d.name for d in deployments("Asia/Tokyo")]
    now = datetime(2025, 6, 1, 12, 10, tzinfo=timezone.utc)  # 21:10 in Tokyo on 1 June
    lines = schedule_lines("Asia/Tokyo", now)
    assert "cron 0 2 * * *" in lines[0] and "Asia/Tokyo" in lines[0] and "next 2025-06-02 02:00 JST" in lines[0]
    assert "next 2025-06-01 21:30 JST" in lines[1]
    assert "next 2025-07-01 06:00 JST" in lines[2]
    assert "train" in lines[3] and "on demand" in lines[3]


def test_next_run_in_a_zone_with_clock_changes():
    from datetime import datetime, timezone

    from pipelines.deployments import next_run

    # 2025-03-09 00:00 EST: 02:00 does not exist that night (clocks jump to 03:00), so the next is the 10th, EDT
    got = next_run("0 2 * * *", "America/New_York", datetime(2025, 3, 9, 5, 0, tzinfo=timezone.utc))
    assert f"{got:%Y-%m-%d %H:%M %Z}" == "2025-03-10 02:00 EDT"


class _Stream:
    def __init__(self, tty: bool):
        self.tty, self.text = tty, ""

    def isatty(self):
        return self.tty

    def write(self, s):
        self.text += s

    def flush(self):
        pass


def test_progress_shows_on_a_terminal_and_is_quiet_in_pipes_and_ci(monkeypatch):
    from meterrisk.progress import stage

    monkeypatch.delenv("CI", raising=False)
    tty, pipe = _Stream(True), _Stream(False)
    stage(2, 4, "updating features", tty)
    stage(2, 4, "updating features", pipe)
    assert "[2/4]" in tty.text and "updating features" in tty.text and pipe.text == ""
    monkeypatch.setenv("CI", "true")
    ci = _Stream(True)
    stage(2, 4, "updating features", ci)
    assert ci.text == ""
