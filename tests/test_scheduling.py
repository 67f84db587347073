"""The engine's scheduling on an executor without kernels: skips, retries, cache, cancel, limits, big graphs.

Every test runs in milliseconds: nodes are scripted (:mod:`fake_executor`), workflows
are built in memory, and tests wait for conditions, never for time.
"""

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fake_executor import FakeExecutor, Script

from jupyter_workflow.engine import Engine
from jupyter_workflow.engine.kernel_executor import KernelExecutor
from jupyter_workflow.events import EventType, NodeStatus, RunStatus
from jupyter_workflow.model.spec import parse_workflow
from jupyter_workflow.runtime import ARTIFACTS_DIR_ENV

NODE_EVENTS = [  # a node that runs once and succeeds, in order: (type, status it moves to)
    (EventType.NODE_TRIGGERED, None),
    (EventType.NODE_STATUS_CHANGED, NodeStatus.QUEUED),
    (EventType.NODE_STARTED, None),
    (EventType.NODE_STATUS_CHANGED, NodeStatus.RUNNING),
    (EventType.NODE_STATUS_CHANGED, NodeStatus.SUCCEEDED),
    (EventType.NODE_FINISHED, None),
]


def workflow(root: Path, nodes: dict, **extra):
    """A workflow of ``nodes`` (node id → its settings; the notebook defaults to ``step.ipynb``), parsed in memory."""
    document = {"format": "jupyter-workflow/1", "nodes": {n: {"notebook": "step.ipynb", **s} for n, s in nodes.items()}, **extra}
    return parse_workflow(document, root)


class EventLog:
    """A run listener that keeps what it hears: ``("begin", run id)`` entries, then the events."""

    def __init__(self, shared: list | None = None):
        self.heard = [] if shared is None else shared

    def begin(self, run) -> None:
        self.heard.append(("begin", run.run_id))

    def record(self, run, event) -> None:
        self.heard.append(event)

    @property
    def events(self) -> list:
        return [entry for entry in self.heard if not isinstance(entry, tuple)]

    def of(self, node_id: str) -> list:
        return [(e.type, e.data.get("to")) for e in self.events if e.node_id == node_id]


def run(flow, executor, parallel: int = 2, inputs=None, **options):
    """Run ``flow`` on ``executor`` to the end; its final state and what a listener heard."""
    log = EventLog()
    engine = Engine(flow.root / "runs", parallel, executor, listeners=[log, *options.pop("listeners", [])], **options)
    return asyncio.run(engine.run(flow, inputs)), log


def test_a_failure_skips_everything_downstream_and_nothing_else(tmp_path):
    flow = workflow(tmp_path, {
        "boom": {},
        "after_boom": {"after": ["boom"]},
        "uses_boom": {"parameters": {"value": {"output": "boom.value"}}},
        "last": {"after": ["uses_boom"]},
        "independent": {},
    })
    fake = FakeExecutor({"boom": Script(failures=1)})
    state, log = run(flow, fake)

    assert state.status == RunStatus.FAILED
    assert (state.error["node"], state.error["evalue"]) == ("boom", "attempt 1 fails")
    assert {n: s.status for n, s in state.nodes.items()} == {
        "boom": "failed", "after_boom": "skipped", "uses_boom": "skipped", "last": "skipped", "independent": "succeeded",
    }
    assert fake.attempts == {"boom": 1, "independent": 1}  # nothing downstream of the failure ran
    reasons = {e.node_id: e.data["reason"] for e in log.events if e.data.get("to") == NodeStatus.SKIPPED}
    assert reasons == {"after_boom": "upstream did not succeed: boom", "uses_boom": "upstream did not succeed: boom",
                       "last": "upstream did not succeed: uses_boom"}


def test_a_node_that_cannot_bind_its_parameters_fails_without_running(tmp_path):
    flow = workflow(tmp_path, {
        "text": {},
        "total": {"parameters": {"value": {"output": "text.text", "map": "sum(@)"}}},
        "missing": {"parameters": {"value": {"output": "text.never_recorded"}}},
        "after": {"after": ["total"]},
    })
    fake = FakeExecutor({"text": Script(outputs={"text": "not numbers"})})
    state, _ = run(flow, fake)

    assert {n: s.status for n, s in state.nodes.items()} == {"text": "succeeded", "total": "failed", "missing": "failed",
                                                            "after": "skipped"}
    assert "map 'sum(@)' failed on text.text" in state.nodes["total"].error["evalue"]
    assert "did not record an output 'never_recorded' (it recorded: text)" in state.nodes["missing"].error["evalue"]
    assert fake.attempts == {"text": 1}


def test_retries_run_a_node_again_and_say_when_why_and_which_attempt(tmp_path):
    flow = workflow(tmp_path, {
        "flaky": {"retries": 2, "retry_delay": 0},
        "hopeless": {"retries": 1},
    })
    fake = FakeExecutor({"flaky": Script(failures=2, outputs={"ok": True}), "hopeless": Script(failures=99)})
    state, log = run(flow, fake)

    flaky, hopeless = state.nodes["flaky"], state.nodes["hopeless"]
    assert (flaky.status, flaky.attempt, flaky.outputs, flaky.error) == ("succeeded", 3, {"ok": True}, None)
    assert (hopeless.status, hopeless.attempt, hopeless.error["evalue"]) == ("failed", 2, "attempt 2 fails")
    assert fake.attempts == {"flaky": 3, "hopeless": 2}
    events = log.events
    assert [e.data["attempt"] for e in events if e.type == EventType.NODE_STARTED and e.node_id == "flaky"] == [1, 2, 3]
    assert [e.type for e in events if e.node_id == "flaky"].count(EventType.NODE_TRIGGERED) == 1
    retries = [e for e in events if e.node_id == "flaky" and "retry_in_s" in e.data]
    assert [(e.data["from"], e.data["to"], e.data["error"]["evalue"], e.data["next_attempt"]) for e in retries] == [
        ("running", "queued", "attempt 1 fails", 2), ("running", "queued", "attempt 2 fails", 3),
    ]
    for retry in retries:
        assert (retry.data["retry_in_s"], retry.data["attempts"]) == (0, 3)
        retry_at = datetime.fromisoformat(retry.data["retry_at"])
        assert retry_at.utcoffset() == timedelta(0)
        assert abs((retry_at - retry.time).total_seconds()) < 1  # the event's time plus the delay, 0
    [finished] = [e for e in events if e.type == EventType.NODE_FINISHED and e.node_id == "hopeless"]
    assert (finished.data["status"], finished.data["attempt"], finished.data["error"]["evalue"]) == ("failed", 2, "attempt 2 fails")


def test_a_node_waiting_to_retry_leaves_its_slot_to_others(tmp_path):
    flow = workflow(tmp_path, {"flaky": {"retries": 1, "retry_delay": 0}, "other": {}})
    state, log = run(flow, FakeExecutor({"flaky": Script(failures=99)}), parallel=1)

    starts = [(e.node_id, e.data["attempt"]) for e in log.events if e.type == EventType.NODE_STARTED]
    assert starts == [("flaky", 1), ("other", 1), ("flaky", 2)]
    assert (state.nodes["flaky"].status, state.nodes["other"].status) == ("failed", "succeeded")


@dataclass
class Earlier:
    """A result kept for a cache key, as the run store keeps one."""

    run_id: str
    notebook: str | None
    outputs: dict


class FakeCache:
    """A result cache that keeps what the cacheable nodes of earlier runs produced, and notes each lookup."""

    def __init__(self):
        self.results: dict[str, Earlier] = {}
        self.lookups: list[list[str]] = []  # the keys of each query, sorted

    def begin(self, run) -> None:
        pass

    def record(self, run, event) -> None:
        node = run.nodes.get(event.node_id)
        if event.type == EventType.NODE_FINISHED and event.data["status"] == NodeStatus.SUCCEEDED and node.cache_key:
            self.results[node.cache_key] = Earlier(run.run_id, node.notebook, node.outputs)

    def find_cached(self, cache_keys: list[str]) -> dict[str, Earlier]:
        self.lookups.append(sorted(cache_keys))
        return {key: self.results[key] for key in cache_keys if key in self.results}


def test_cacheable_nodes_reuse_an_earlier_identical_result(tmp_path):
    (tmp_path / "step.ipynb").write_text("{}")  # the notebook's bytes are part of the key
    flow = workflow(
        tmp_path,
        {
            "expensive": {"cache": True, "parameters": {"size": {"input": "size"}}},  # its key is known from the start
            "total": {"cache": True, "parameters": {"frame": {"output": "expensive.frame"}}},  # known once it runs
            "plain": {"parameters": {"frame": {"output": "expensive.frame"}}},
        },
        inputs={"size": {"type": "integer", "default": 3}},
    )
    fake = FakeExecutor({"expensive": Script(outputs=lambda p: {"frame": p["size"] * 10}),
                         "total": Script(outputs=lambda p: {"total": p["frame"] + 1})})
    cache = FakeCache()

    def run_cached(**inputs):
        return run(flow, fake, inputs=inputs, listeners=[cache], cache=cache)

    first, _ = run_cached()
    second, log = run_cached()
    other, _ = run_cached(size=4)

    assert fake.attempts == {"expensive": 2, "total": 2, "plain": 3}  # the second run executed only "plain"
    assert {n: s.status for n, s in second.nodes.items()} == {"expensive": "cached", "total": "cached", "plain": "succeeded"}
    assert second.nodes["total"].outputs == {"total": 31} and second.nodes["plain"].status == "succeeded"
    assert second.nodes["expensive"].notebook == first.nodes["expensive"].notebook
    assert [(e.data["to"], e.data["from_run"]) for e in log.events if e.node_id == "expensive"
            and e.type == EventType.NODE_STATUS_CHANGED] == [("cached", first.run_id)]
    assert log.of("total")[-2:] == [(EventType.NODE_STATUS_CHANGED, "cached"), (EventType.NODE_FINISHED, None)]
    assert {n: s.status for n, s in other.nodes.items()} == {"expensive": "succeeded", "total": "succeeded", "plain": "succeeded"}
    assert [len(keys) for keys in cache.lookups] == [1, 1] * 3  # per run: "expensive" before anything runs, then "total"


def test_cancelling_a_run_cancels_its_running_nodes_and_marks_the_others_cancelled(tmp_path):
    flow = workflow(tmp_path, {"hang_a": {}, "hang_b": {}, "waiting": {}, "after": {"after": ["hang_a"]}})
    fake = FakeExecutor({"hang_a": Script(hang=True), "hang_b": Script(hang=True)})
    log = EventLog()

    async def cancel_while_they_run():
        engine = Engine(tmp_path / "runs", 2, fake, listeners=[log])
        state = engine.new_run(flow)
        running = asyncio.ensure_future(engine.execute(state))
        await fake.started("hang_a").wait()
        await fake.started("hang_b").wait()
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        return state

    state = asyncio.run(cancel_while_they_run())

    assert sorted(fake.cancelled) == ["hang_a", "hang_b"]
    assert state.status == RunStatus.CANCELLED
    assert {n: s.status for n, s in state.nodes.items()} == dict.fromkeys(flow.nodes, NodeStatus.CANCELLED)
    assert {e.node_id for e in log.events if e.type == EventType.NODE_FINISHED} == set(flow.nodes)
    assert (log.events[-1].type, log.events[-1].data["status"]) == (EventType.RUN_FINISHED, "cancelled")
    assert fake.attempts == {"hang_a": 1, "hang_b": 1} and fake.settled == [state.run_id]


@pytest.mark.parametrize("parallel", [1, 3, 8])
def test_no_more_than_parallel_nodes_run_at_once(tmp_path, parallel):
    flow = workflow(tmp_path, {f"n{i}": {"retries": 1, "retry_delay": 0} for i in range(12)})
    fake = FakeExecutor({f"n{i}": Script(failures=i % 2) for i in range(12)})  # every other node retries
    state, _ = run(flow, fake, parallel=parallel)

    assert state.status == RunStatus.SUCCEEDED
    assert fake.most_at_once == parallel


def test_outputs_flow_through_maps_and_fan_in_to_the_nodes_and_the_workflow(tmp_path):
    def emit(parameters):
        name, size = parameters["name"], parameters["size"]
        return {"items": [name] * size, "info": {"name": name, "size": size, name: True}}

    flow = workflow(
        tmp_path,
        {
            "a": {"parameters": {"name": "a", "size": 2}},
            "b": {"parameters": {"name": "b", "size": 1}},
            "collect": {"parameters": {
                "joined": {"outputs": ["a.items", "b.items"], "reduce": "concat"},
                "merged": {"outputs": ["a.info", "b.info"], "reduce": "merge"},
                "listed": {"outputs": ["b.info", "a.info"], "reduce": "list"},
                "upper": {"output": "a.info", "map": "name"},
                "from_input": {"input": "label"},
                "not_binding": {"value": {"output": "looks.like_a_binding"}},
            }},
        },
        inputs={"label": {"type": "string", "default": "total"}},
        outputs={"sizes": {"outputs": ["a.info", "b.info"], "reduce": "list"}, "first": {"output": "a.items", "map": "[0]"}},
    )
    fake = FakeExecutor({"a": Script(outputs=emit, prints="emitting a\n"), "b": Script(outputs=emit),
                         "collect": Script(outputs=lambda parameters: {"got": parameters})})
    state, log = run(flow, fake)

    assert state.status == RunStatus.SUCCEEDED, state.error
    assert state.nodes["collect"].outputs["got"] == {
        "joined": ["a", "a", "b"],
        "merged": {"name": "b", "size": 1, "a": True, "b": True},
        "listed": [{"name": "b", "size": 1, "b": True}, {"name": "a", "size": 2, "a": True}],
        "upper": "a",
        "from_input": "total",
        "not_binding": {"output": "looks.like_a_binding"},
    }
    assert state.outputs == {"sizes": [{"name": "a", "size": 2, "a": True}, {"name": "b", "size": 1, "b": True}], "first": "a"}
    a_events = log.of("a")
    assert a_events.index((EventType.NODE_OUTPUT, None)) < a_events.index((EventType.NODE_FINISHED, None))
    assert [e.data for e in log.events if e.type == EventType.NODE_OUTPUT] == [{"stream": "stdout", "text": "emitting a\n"}]


def test_a_retried_run_reuses_what_succeeded_and_runs_the_rest(tmp_path):
    flow = workflow(tmp_path, {"first": {}, "second": {"parameters": {"x": {"output": "first.x"}}}})
    fake = FakeExecutor({"second": Script(outputs=lambda parameters: {"y": parameters["x"] + 1})})
    engine = Engine(tmp_path / "runs", 2, fake)
    state = engine.new_run(flow)
    state.nodes["first"].status, state.nodes["first"].outputs = NodeStatus.SUCCEEDED, {"x": 41}

    asyncio.run(engine.execute(state))

    assert fake.attempts == {"second": 1}
    assert (state.status, state.nodes["second"].outputs) == (RunStatus.SUCCEEDED, {"y": 42})


def assert_every_event_in_order(log: EventLog, nodes) -> None:
    """run.started first, run.finished last, and each node's events in their order."""
    events = log.events
    assert events[0].type == EventType.RUN_STARTED
    assert (events[-1].type, events[-1].data["status"]) == (EventType.RUN_FINISHED, RunStatus.SUCCEEDED)
    by_node: dict[str, list] = {node_id: [] for node_id in nodes}
    for event in events[1:-1]:
        by_node[event.node_id].append((event.type, event.data.get("to")))
    assert all(node_events == NODE_EVENTS for node_events in by_node.values())


def test_a_thousand_node_chain_runs_each_node_after_the_previous_one(tmp_path):
    nodes = {"n0": {}, **{f"n{i}": {"parameters": {"x": {"output": f"n{i - 1}.x"}}} for i in range(1, 1000)}}
    fake = FakeExecutor({node_id: Script(outputs=lambda parameters: {"x": parameters.get("x", 0) + 1}) for node_id in nodes})
    state, log = run(workflow(tmp_path, nodes, outputs={"last": {"output": "n999.x"}}), fake, parallel=4)

    assert state.outputs == {"last": 1000}
    assert_every_event_in_order(log, nodes)
    position = {(e.node_id, e.type): index for index, e in enumerate(log.events)}
    assert all(position[f"n{i - 1}", EventType.NODE_FINISHED] < position[f"n{i}", EventType.NODE_TRIGGERED] for i in range(1, 1000))
    assert fake.most_at_once == 1


def test_a_thousand_node_fan_out_and_in_runs_the_wide_layer_at_the_parallel_limit(tmp_path):
    leaves = [f"leaf{i}" for i in range(1000)]
    nodes = {"root": {}, **{leaf: {"after": ["root"]} for leaf in leaves},
             "last": {"parameters": {"all": {"outputs": [f"{leaf}.i" for leaf in leaves], "reduce": "list"}}}}
    fake = FakeExecutor({leaf: Script(outputs={"i": index}) for index, leaf in enumerate(leaves)})
    state, log = run(workflow(tmp_path, nodes), fake, parallel=8)

    assert state.status == RunStatus.SUCCEEDED
    assert fake.tasks[-1].parameters == {"all": list(range(1000))}
    assert_every_event_in_order(log, nodes)
    position = {(e.node_id, e.type): index for index, e in enumerate(log.events)}
    assert all(position["root", EventType.NODE_FINISHED] < position[leaf, EventType.NODE_TRIGGERED] for leaf in leaves)
    assert all(position[leaf, EventType.NODE_FINISHED] < position["last", EventType.NODE_TRIGGERED] for leaf in leaves)
    assert fake.most_at_once == 8


class ListeningFake(FakeExecutor):
    """The fake, listening to the runs it serves as an executor may."""

    def __init__(self, heard: list, **options):
        super().__init__(**options)
        self.log = EventLog(heard)

    def begin(self, run) -> None:
        self.log.begin(run)

    def record(self, run, event) -> None:
        self.log.record(run, event)


def test_an_executor_that_listens_hears_each_run_after_the_other_listeners_then_its_end(tmp_path):
    flow = workflow(tmp_path, {"a": {}, "b": {"after": ["a"]}})
    heard = []
    listener, fake = EventLog(heard), ListeningFake(heard)
    engine = Engine(tmp_path / "runs", 3, fake, listeners=[listener])
    state = asyncio.run(engine.run(flow))

    assert heard[:2] == [("begin", state.run_id), ("begin", state.run_id)]
    events = heard[2:]
    assert events[::2] == events[1::2]  # each event heard by the listener, then by the executor
    assert events[-1].type == EventType.RUN_FINISHED and fake.settled == [state.run_id]
    assert state.parallel == 3


class FakePool:
    """A kernel pool without kernels, for the kernel executor's warm-up: notes what it is told and asked.

    ``demand`` is what :meth:`expect` announced and neither :meth:`forget` nor an announced
    :meth:`acquire` took back; ``heard`` gets ``("acquire", node id)`` entries in order.
    """

    def __init__(self, heard: list):
        self.heard = heard
        self.expected: Counter = Counter()
        self.demand: Counter = Counter()
        self.announced = asyncio.Event()
        self.acquired: list[str] = []
        self.discarded: list[str] = []

    def expect(self, kernels: Counter) -> None:
        self.expected.update(kernels)
        self.demand.update(kernels)
        self.announced.set()

    def forget(self, kernels: Counter) -> None:
        self.demand.subtract(kernels)

    async def acquire(self, kernel_name: str, cwd: Path, env: dict, announced: bool = False) -> str:
        node_id = Path(env[ARTIFACTS_DIR_ENV]).name
        if announced:
            self.demand[kernel_name] -= 1
        self.acquired.append(node_id)
        self.heard.append(("acquire", node_id))
        return node_id  # the node's "kernel"

    def discard(self, kernel: str) -> None:
        self.discarded.append(kernel)

    async def trim(self) -> None:
        pass


class WarmUpProbe(FakeExecutor):
    """The fake's attempts, and a kernel executor on a :class:`FakePool` hearing the runs as it would.

    The attempts take nothing: every kernel made ready ahead is given back as its node ends.
    """

    def __init__(self, heard: list, **options):
        super().__init__(**options)
        self.pool = FakePool(heard)
        self.kernels = KernelExecutor(self.pool)

    def begin(self, run) -> None:
        self.kernels.begin(run)

    def record(self, run, event) -> None:
        self.kernels.record(run, event)

    async def settle(self, run) -> None:
        await self.kernels.settle(run)
        await super().settle(run)


def run_probe(flow, parallel: int, gates: dict[str, asyncio.Event], failures=()):
    """Run ``flow`` on a :class:`WarmUpProbe`; its ``gates`` nodes wait, one after another, each for its gate.

    A gated node may end once the kernels are announced and it runs. Returns the run, the
    probe, and what the run's listener and the pool heard, in order.
    """
    heard = []
    scripts = {node_id: Script(gate=gate, failures=int(node_id in failures)) for node_id, gate in gates.items()}
    probe = WarmUpProbe(heard, scripts=scripts)

    async def go():
        engine = Engine(flow.root / "runs", parallel, probe, listeners=[EventLog(heard)])
        running = asyncio.ensure_future(engine.run(flow))
        await probe.pool.announced.wait()
        for node_id, gate in gates.items():
            await probe.started(node_id).wait()
            gate.set()
        return await running

    return asyncio.run(go()), probe, heard


def finished(heard: list, node_id: str) -> int:
    """Where the ``node.finished`` event of ``node_id`` is in ``heard``."""
    return next(i for i, e in enumerate(heard) if getattr(e, "node_id", None) == node_id and e.type == EventType.NODE_FINISHED)


def test_kernels_are_made_ready_while_the_upstream_runs_for_at_most_parallel_nodes_then_given_back(tmp_path):
    python = {"kernel": "python3"}  # no notebook read to find the kernelspec
    flow = workflow(tmp_path, {"slow": python, **{f"next_{x}": {"after": ["slow"], **python} for x in "abc"}})
    state, probe, heard = run_probe(flow, 2, {"slow": asyncio.Event()})

    assert state.status == RunStatus.SUCCEEDED
    assert probe.pool.expected == Counter({"python3": 4})
    assert probe.pool.acquired == ["next_a", "next_b"]  # a third would pass the limit of 2 nodes of the run
    assert heard.index(("acquire", "next_b")) < finished(heard, "slow")  # made ready while their upstream ran
    assert sorted(probe.pool.discarded) == ["next_a", "next_b"]  # not taken by their attempts: given back
    assert +probe.pool.demand == Counter()  # every announced kernel was asked for or forgotten


def test_no_kernel_is_made_ready_below_a_failure_nor_announced_for_a_cacheable_node(tmp_path):
    python = {"kernel": "python3"}
    flow = workflow(tmp_path, {
        "bad": python,
        "after_bad": {"after": ["bad"], **python},  # made ready while "bad" runs, then skipped
        "slow": python,
        "doomed": {"after": ["bad", "slow"], **python},  # "bad" had failed when "slow" ran: nothing made ready
        "cached": {"after": ["slow"], "cache": True, **python},  # announced only once it misses the cache
    })
    state, probe, heard = run_probe(flow, 1, {"bad": asyncio.Event(), "slow": asyncio.Event()}, failures={"bad"})

    assert {n: s.status for n, s in state.nodes.items()} == {
        "bad": "failed", "after_bad": "skipped", "slow": "succeeded", "doomed": "skipped", "cached": "succeeded",
    }
    assert probe.pool.expected == Counter({"python3": 4})
    assert probe.pool.acquired == ["after_bad"]
    assert heard.index(("acquire", "after_bad")) < finished(heard, "bad")
    assert probe.pool.discarded == ["after_bad"]  # given back as it was skipped
    assert +probe.pool.demand == Counter()
