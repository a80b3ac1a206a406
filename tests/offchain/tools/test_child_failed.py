"""A devnet child's failure names its log and quotes the log's last lines."""

from __future__ import annotations

from pathlib import Path

from peerhost.devnet.errors import ChildFailed


def test_child_failed__with_log__message_quotes_last_15_lines(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    log.write_text("".join(f"line {i}\n" for i in range(40)))
    message = str(ChildFailed("worker 1", "exited with code 2", log))
    assert message.startswith(f"worker 1 exited with code 2. Its log: {log}\nline 25\n")
    assert message.endswith("line 39") and "line 24" not in message


def test_child_failed__log_not_written_yet__message_names_it_only(tmp_path: Path) -> None:
    log = tmp_path / "absent.log"
    assert str(ChildFailed("gateway", "did not start", log)) == (
        f"gateway did not start. Its log: {log}"
    )
