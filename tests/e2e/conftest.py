"""Fixtures for the end-to-end tests: one moto server and one emulated function per session,
moto reset and re-seeded for every test."""

from __future__ import annotations

import pytest

import harness


@pytest.fixture(scope="session")
def moto():
    server = harness.MotoServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def function(moto):
    emulator = harness.RuntimeEmulator(harness.RELEASE_BINARY, moto.endpoint)
    yield emulator
    emulator.stop()


@pytest.fixture(scope="module")
def org_moto():
    """A moto for an organization: no MOTO_ACCOUNT_ID, so its default account (123456789012) is
    the central account and AssumeRole gives a member account's view (harness.AccountView)."""
    server = harness.MotoServer(account=None)
    yield server
    server.stop()


@pytest.fixture
def world(moto):
    """A freshly reset moto with the scenario seeded; returns a seeder taking logging= and
    second_trail= (see harness.seed)."""
    moto.reset()

    def seed(logging: bool = True, second_trail: bool = False) -> str:
        return harness.seed(moto, logging=logging, second_trail=second_trail)

    return seed


def pytest_runtest_makereport(item, call):
    # On failure, show what the function logged: the reason is usually there.
    if call.when == "call" and call.excinfo is not None:
        for name, value in getattr(item, "funcargs", {}).items():
            if isinstance(value, harness.RuntimeEmulator):
                item.add_report_section("call", f"{name} log (last lines)", value.output())
