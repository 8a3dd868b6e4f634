"""The harness itself, where a mistake would show as a flaky test rather than a failing one."""

from __future__ import annotations

import socket

import harness


def test_an_emulator_whose_port_was_taken_starts_again_on_new_ports(moto, monkeypatch):
    """Between picking a free port and the emulator binding it, another socket can take it (the
    tests open many): the emulator exits with "address already in use" and is started again."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        taken_port = taken.getsockname()[1]
        picks = []
        real = harness.free_ports

        def first_pick_taken(count: int) -> list[int]:
            ports = real(count)
            picks.append(ports)
            # The first start gets the taken port for its runtime API, the one that failed in CI.
            return [ports[0], taken_port] if len(picks) == 1 else ports

        monkeypatch.setattr(harness, "free_ports", first_pick_taken)
        with harness.RuntimeEmulator(harness.RELEASE_BINARY, moto.endpoint) as emulator:
            assert len(picks) == 2, picks
            assert emulator.port == picks[1][0]
            answer = emulator.invoke({"not": "an event"})
            assert answer.status == 200, answer


def test_free_ports_are_distinct():
    ports = harness.free_ports(16)
    assert len(set(ports)) == 16
