"""One writer per stage of a data directory: a second waits for the first, or fails naming it."""

from __future__ import annotations

import time

import pytest

from llm_pipeline.storage.locks import StageBusyError, lock_path, stage_lock
from llm_pipeline_tests.support.lock_holder import HOLDER_RUN, hold_stage_lock


def test_a_second_writer_fails_naming_the_first_once_it_has_waited(tmp_path):
    holder = hold_stage_lock(tmp_path, "filtered", 60)
    said = []
    try:
        with pytest.raises(StageBusyError) as raised, stage_lock(tmp_path, "filtered", wait_s=1.5, log=said.append):
            pass
    finally:
        holder.kill()
        holder.wait()
    message = str(raised.value)
    assert (
        f"pid {holder.pid}" in message
        and f"run {HOLDER_RUN}" in message
        and str(lock_path(tmp_path, "filtered")) in message
    )
    assert any("waiting up to 2 s" in line and f"pid {holder.pid}" in line for line in said)


def test_a_second_writer_waits_for_the_first_then_writes(tmp_path):
    holder = hold_stage_lock(tmp_path, "filtered", 1.5)
    said = []
    started = time.monotonic()
    with stage_lock(tmp_path, "filtered", wait_s=60, log=said.append, poll_s=0.1):
        waited = time.monotonic() - started
    holder.wait()
    assert 0.5 < waited < 30
    assert "the other holder is done" in said[-1]


def test_a_killed_writer_leaves_no_lock_behind(tmp_path):
    holder = hold_stage_lock(tmp_path, "filtered", 60)
    holder.kill()
    holder.wait()
    with stage_lock(tmp_path, "filtered", wait_s=0):  # at once: the kernel dropped the dead process's lock
        pass


def test_other_stages_and_sequential_writers_do_not_wait(tmp_path):
    # wait_s=0: any wait would raise StageBusyError.
    with stage_lock(tmp_path, "filtered", wait_s=0), stage_lock(tmp_path, "clustered", wait_s=0):
        pass
    with stage_lock(tmp_path, "filtered", wait_s=0):
        pass


def test_readers_share_the_lock_and_a_writer_waits_for_every_one(tmp_path):
    reader = hold_stage_lock(tmp_path, "splits", 60, shared=True)
    try:
        with stage_lock(tmp_path, "splits", wait_s=0, shared=True):  # a second reader gets in at once
            pass
        with pytest.raises(StageBusyError, match=rf"splits is being read by run {HOLDER_RUN}, pid {reader.pid}"):
            with stage_lock(tmp_path, "splits", wait_s=1):
                pass
    finally:
        reader.kill()
        reader.wait()
    with stage_lock(tmp_path, "splits", wait_s=0):  # the killed reader's lock went with it
        pass
    writer = hold_stage_lock(tmp_path, "splits", 60)
    try:
        with pytest.raises(StageBusyError, match="splits is being written by another writer"):
            with stage_lock(tmp_path, "splits", wait_s=1, shared=True):
                pass
    finally:
        writer.kill()
        writer.wait()
