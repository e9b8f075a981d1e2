"""The workers' Courier: a run's progress sent in order from its own thread (a list at a time), the
cancel event asked there, the training never waiting for either; a failing queue stops the run."""
from __future__ import annotations

import os
import threading
import time

from app import compare_worker
from app.compare_worker import Courier


class SlowQueue:
    """A queue whose put waits until ``gate`` opens (a round trip to a busy process)."""

    def __init__(self, fail: bool = False):
        self.fail, self.lists, self.threads, self.waiting = fail, [], set(), threading.Event()
        self.gate = threading.Event()
        self.gate.set()

    def put(self, messages: list) -> None:
        self.threads.add(threading.get_ident())
        if self.fail:
            raise EOFError("the manager is gone")
        self.waiting.set()
        assert self.gate.wait(10)
        self.lists.append(list(messages))


def test_messages_arrive_in_order_a_list_at_a_time_from_another_thread():
    queue, event = SlowQueue(), threading.Event()
    queue.gate.clear()                                      # every put hangs until the gate opens
    courier = Courier(queue.put, event, interval=0.0, look=0.005)
    courier({"event": "epoch", "epoch": 0})
    assert queue.waiting.wait(10)                           # the first list is being sent, and hangs
    for i in range(1, 300):
        courier({"event": "epoch", "epoch": i})             # handed over meanwhile: nobody waited
    assert queue.lists == []
    queue.gate.set()
    courier.close()
    sent = [m["epoch"] for messages in queue.lists for m in messages]
    assert sent == list(range(300))                         # every message, once, in order
    assert queue.lists[0] == [{"event": "epoch", "epoch": 0}] and len(queue.lists[1]) == 299    # the rest as one
    assert threading.get_ident() not in queue.threads       # never sent from the training's thread


def test_should_stop_follows_the_event_without_the_caller_asking_it():
    asked = []

    class Event:
        def __init__(self):
            self.flag = False

        def is_set(self):
            asked.append(threading.get_ident())
            return self.flag
    event = Event()
    courier = Courier(lambda messages: None, event, look=0.01)
    assert courier.should_stop() is False
    event.flag = True
    deadline = time.monotonic() + 5
    while not courier.should_stop():
        assert time.monotonic() < deadline
        time.sleep(0.005)
    courier.close()
    assert asked and threading.get_ident() not in set(asked)


def test_a_queue_that_fails_stops_the_run():
    courier = Courier(SlowQueue(fail=True).put, threading.Event(), interval=0.0, look=0.01)
    courier({"event": "epoch", "epoch": 1})
    courier.close()
    assert courier.should_stop() is True


def test_close_without_waiting_still_sends_the_rest():
    queue = SlowQueue()
    courier = Courier(queue.put, threading.Event(), interval=10.0, look=0.01)
    courier({"event": "epoch", "epoch": 7})
    courier.close(wait=False)
    courier.thread.join(timeout=5)
    assert queue.lists == [[{"event": "epoch", "epoch": 7}]]


def test_run_sends_started_first_and_the_result_last():
    queue = SlowQueue()
    spec = {"dataset": {"name": "xor", "n_samples": 40, "noise": 0.05, "seed": 0},
            "layers": [{"units": 3, "activation": "tanh"}, {"units": 2, "activation": "softmax"}],
            "loss": "categorical_crossentropy", "optimizer": {"name": "sgd", "learning_rate": 0.1},
            "batch_size": 8, "seed": 0}
    task = {"mode": "sweep", "settings": {"learning_rate": 0.3}, "epochs": 3}
    queue.put = lambda item, q=queue: q.lists.append(item)
    assert compare_worker.run("job", 2, spec, task, queue, threading.Event(), attempt=1) == "done"
    events = [m["event"] for _, _, _, messages in queue.lists for m in messages]
    assert {(j, i, a) for j, i, a, _ in queue.lists} == {("job", 2, 1)}
    assert queue.lists[0][3] == [{"event": "started", "pid": os.getpid(), "worker": f"local:{os.getpid()}"}]
    assert events[-1] == "result" and events.count("epoch") == 3 and events.count("result") == 1
    result = queue.lists[-1][3][-1]
    alone = compare_worker.sweep.run({"spec": spec, "settings": task["settings"], "epochs": 3})
    assert result["history"]["loss"] == alone["history"]["loss"]          # bit for bit
