"""Going back in time (app/timeline.py, app/travel.py): seek shows a step exactly as it was, stepping
on replays the same future, a change starts a branch, nothing is lost."""
from __future__ import annotations

import numpy as np
import pytest
from app_helpers import SMALL_NET, new_session, strict_json

from app import travel
from app.errors import Conflict, NotFound, Unprocessable
from app.main import create_app
from app.schemas import SessionCreate

NET = {**SMALL_NET, "dataset": {"name": "spiral", "n_samples": 90, "seed": 1},
       "layers": [{"units": 8, "activation": "tanh", "dropout": 0.25}, {"units": 2, "activation": "softmax"}],
       "optimizer": {"name": "adam", "learning_rate": 0.02}, "batch_size": 8}


def _session(**changes):
    return create_app().state.store.build(SessionCreate(**{**NET, **changes}))


def _arrays(frame) -> dict:
    out = {}
    for entry in frame["layers"]:
        for key, value in entry.items():
            if isinstance(value, tuple):
                out[(entry["index"], key)] = value[0]
    return out


def _same_weights(a, b):
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)


def test_seek_answers_each_step_as_step_answered_it():
    s = _session()
    frames, weights = {}, {0: s.model.get_weights()}
    for _ in range(30):                                 # 5 epochs (6 batches an epoch)
        frame = s.step()
        frames[frame["step"]] = frame
        weights[frame["step"]] = s.model.get_weights()
    for k in (30, 29, 1, 6, 7, 17):
        answer = travel.seek(s, k)
        assert answer["step"] == k == s.model.step and answer["phase"] == "ready"
        then, now = _arrays(frames[k]), _arrays(answer)
        assert then.keys() == now.keys() and ("1", "delta") not in then
        for key in then:
            np.testing.assert_array_equal(now[key], then[key], err_msg=str(key))
        np.testing.assert_array_equal(answer["batch"]["indices"] if "indices" in answer["batch"] else 0,
                                      frames[k]["batch"]["indices"] if "indices" in frames[k]["batch"] else 0)
        _same_weights(s.model.get_weights(), weights[k])
        assert len(s.history["batch_loss"]) == k and s.epoch == k // -(-s.data.n_train // 8)
        assert len(s.history["loss"]) == s.epoch
    travel.seek(s, 0)
    _same_weights(s.model.get_weights(), weights[0])
    assert s.history["batch_loss"] == [] and s.history["loss"] == []


def test_stepping_after_a_seek_replays_the_same_future_without_a_branch():
    s = _session()
    for _ in range(3):
        s.run_epoch()
    s.step()
    head, history = s.model.get_weights(), {k: list(v) for k, v in s.history.items()}
    travel.seek(s, 4)
    s.run_epoch()                                       # to the end of the first epoch
    assert s.model.step == 6
    for _ in range(13):
        s.play_step(full=False)
    assert s.model.step == 19 and list(s.timeline.branches) == [0]
    _same_weights(s.model.get_weights(), head)
    assert s.history == history


def test_a_change_after_a_seek_starts_a_branch_and_keeps_the_old_future():
    s = _session()
    for _ in range(20):
        s.step()
    old_head = s.model.get_weights()
    travel.seek(s, 12)
    s.set_optimizer({"learning_rate": 0.002})
    tl = s.timeline
    assert sorted(tl.branches) == [0, 1] and tl.current == 1
    new = tl.branches[1]
    assert (new.parent, new.start, new.head) == (0, 12, 12) and new.changed == "η 0.02 → 0.002"
    assert s.config["optimizer"]["learning_rate"] == 0.002
    for _ in range(5):
        s.step()
    assert new.head == 17 and tl.branches[0].head == 20
    on_new = s.model.get_weights()
    travel.seek(s, 20, branch=0)                        # the old future is all there
    _same_weights(s.model.get_weights(), old_head)
    assert s.config["optimizer"]["learning_rate"] == 0.02
    travel.seek(s, 17, branch=1)
    _same_weights(s.model.get_weights(), on_new)
    travel.seek(s, 5, branch=1)                         # before its start: on the branch it left
    assert tl.current == 0 and s.model.step == 5


def test_a_change_at_the_start_is_made_in_place_and_a_second_change_joins_the_first():
    s = _session()
    s.set_optimizer({"learning_rate": 0.05})           # nothing stepped yet: the first branch changes
    assert list(s.timeline.branches) == [0] and s.timeline.branch.optimizer["learning_rate"] == 0.05
    for _ in range(4):
        s.step()
    s.set_optimizer({"learning_rate": 0.01})
    s.set_batch_size(4)                                 # the same step: the same new branch
    tl = s.timeline
    assert sorted(tl.branches) == [0, 1] and tl.branch.batch_size == 4
    assert tl.branch.changed == "η 0.05 → 0.01"        # the first change names it
    s.step()
    assert s.run.pending is None and s.model.step == 5 and len(s.history["batch_loss"]) == 5


def test_a_change_mid_cycle_keeps_the_half_done_cycle():
    s = _session()
    s.step()
    forward = s.forward()
    s.backward()
    s.set_optimizer({"learning_rate": 0.001})
    assert s.model.phase == "backward" and s.run.pending.rows.tolist() == forward["batch"]["indices"]
    answer = s.update()
    assert answer["learning_rate"] == 0.001 and s.model.step == 2


def test_another_batch_after_a_seek_starts_a_branch():
    s = _session()
    for _ in range(6):
        s.step()
    travel.seek(s, 3)
    s.forward(indices=[0, 1, 2])
    s.backward()
    s.update()
    tl = s.timeline
    assert sorted(tl.branches) == [0, 1] and tl.branches[1].oneoff == {3: [0, 1, 2]}
    assert tl.branches[1].changed.startswith("the rows [0, 1, 2] at step 3")
    s.step()
    weights = s.model.get_weights()
    travel.seek(s, 6, branch=0)
    travel.seek(s, 5, branch=1)                         # the one-off batch replayed as recorded
    _same_weights(s.model.get_weights(), weights)


def test_phases_within_a_step():
    s = _session()
    for _ in range(5):
        s.step()
    w4 = None
    travel.seek(s, 4)
    w4 = s.model.get_weights()
    frame = s.step()                                    # step 5, as Step answers it
    back = travel.seek(s, 4, phase="backward")          # one phase back from after step 5's update
    assert back["phase"] == "backward" and s.model.phase == "backward" and s.model.step == 4
    _same_weights(s.model.get_weights(), w4)
    got, want = _arrays(back), _arrays(frame)
    for key in [(i, f) for i in (1, 2) for f in ("z", "a", "delta", "dW", "db")]:
        np.testing.assert_array_equal(got[key], want[key], err_msg=str(key))
    fwd = travel.seek(s, 4, phase="forward")
    assert fwd["phase"] == "forward" and "delta" not in fwd["layers"][0]
    assert s.update if False else s.backward()["phase"] == "backward"


def test_keyframes_stay_within_their_budget_and_seeks_stay_exact():
    s = _session()
    s.timeline.budget = 6 * s.timeline.branch.keyframes[0].nbytes
    weights = {}
    for _ in range(500):
        s.step_quiet()
        if s.model.step % 37 == 0:
            weights[s.model.step] = s.model.get_weights()
    tl = s.timeline
    assert tl.nbytes() <= tl.budget and tl.interval > 10
    assert len(tl.branch.keyframes) <= 6
    for k, w in weights.items():
        travel.seek(s, k)
        _same_weights(s.model.get_weights(), w)


def test_a_diverged_session_can_go_back_and_diverges_again_at_the_same_step():
    s = _session(dataset={"name": "plane", "n_samples": 200}, loss="mean_squared_error",
                 layers=[{"units": 8, "activation": "relu"}, {"units": 1, "activation": "linear"}],
                 optimizer={"name": "sgd", "learning_rate": 100.0})
    answer = s.run_epoch()
    assert answer["phase"] == "diverged"
    where = dict(s.diverged)
    assert s.timeline.branch.diverged == where and where["step"] >= 2
    travel.seek(s, where["step"] - 2)
    assert s.diverged is None and s.phase == "ready"
    again = {}
    while again.get("phase") != "diverged":
        again = s.step()                                # one step at a time this time: tested at once
    assert s.diverged["quantity"] and abs(s.diverged["step"] - where["step"]) <= 1


def test_bad_positions_and_branches():
    s = _session()
    for _ in range(3):
        s.step()
    with pytest.raises(Unprocessable, match="past the end of branch 0"):
        travel.seek(s, 4)
    with pytest.raises(NotFound, match="no branch 7"):
        travel.seek(s, 1, branch=7)
    with pytest.raises(Unprocessable, match="must be one of"):
        travel.seek(s, 1, phase="update")
    with pytest.raises(Unprocessable, match="give optimizer, batch_size and/or regularization"):
        travel.branch(s, 1, None, None, None)
    with pytest.raises(ValueError, match="cannot be deleted"):
        s.timeline.delete(0)
    assert isinstance(Conflict("x"), Exception)


@pytest.mark.anyio
async def test_the_timeline_over_http(client):
    created = await new_session(client, **{k: NET[k] for k in ("dataset", "layers", "optimizer", "batch_size")})
    sid = created["id"]
    for _ in range(6):
        assert (await client.post(f"/api/sessions/{sid}/step")).status_code == 200
    seek = await client.post(f"/api/sessions/{sid}/seek", json={"step": 3})
    assert seek.status_code == 200, seek.text
    body = strict_json(seek)
    assert body["step"] == 3 and body["state"]["step"] == 3 and body["layers"][0]["W_updated"]
    made = await client.post(f"/api/sessions/{sid}/branch", json={"optimizer": {"learning_rate": 0.001}})
    assert made.status_code == 200, made.text
    assert strict_json(made)["timeline"]["position"] == {"branch": 1, "step": 3}
    for _ in range(2):
        await client.post(f"/api/sessions/{sid}/step")
    line = strict_json(await client.get(f"/api/sessions/{sid}/timeline", params={"curves": "true"}))
    assert [(b["id"], b["parent"], b["start"], b["head"]) for b in line["branches"]] == [(0, None, 0, 6), (1, 0, 3, 5)]
    assert len(line["curves"]["0"]["batch_loss"]) == 6 and len(line["curves"]["1"]["batch_loss"]) == 2
    assert line["curves"]["1"]["steps_from"] == 4
    bad = await client.post(f"/api/sessions/{sid}/seek", json={"step": 99})
    assert bad.status_code == 422 and "past the end" in bad.text and "step" in bad.text
    gone = await client.post(f"/api/sessions/{sid}/seek", json={"step": 1, "branch": 9})
    assert gone.status_code == 404
    stuck = await client.delete(f"/api/sessions/{sid}/branches/1")
    assert stuck.status_code == 409 and "switch to another branch" in stuck.text
    assert (await client.post(f"/api/sessions/{sid}/seek", json={"step": 6, "branch": 0})).status_code == 200
    deleted = await client.delete(f"/api/sessions/{sid}/branches/1")
    assert deleted.status_code == 200 and strict_json(deleted)["deleted"] == [1]


def test_the_post_mortem_finds_the_last_finite_step_and_suggests_a_smaller_rate():
    from app.postmortem import post_mortem
    s = _session(dataset={"name": "plane", "n_samples": 200}, loss="mean_squared_error",
                 layers=[{"units": 8, "activation": "relu"}, {"units": 1, "activation": "linear"}],
                 optimizer={"name": "sgd", "learning_rate": 100.0})
    with pytest.raises(Conflict, match="has not diverged"):
        post_mortem(s)
    assert s.run_epoch()["phase"] == "diverged"
    where = dict(s.diverged)
    report = post_mortem(s)
    last = report["last_finite_step"]
    assert report["diverged"] == where and last <= where["step"] and s.model.step == report["branch_from"] <= last
    assert s.diverged is None and all(np.isfinite(w).all() for w in s.model.get_weights())
    assert report["steps"] == list(range(1, len(report["steps"]) + 1)) and report["steps"][-1] >= last
    # the norms are the replayed steps' own: recompute step 1's ‖∂cost/∂W(1)‖ independently
    probe = _session(dataset={"name": "plane", "n_samples": 200}, loss="mean_squared_error",
                     layers=[{"units": 8, "activation": "relu"}, {"units": 1, "activation": "linear"}],
                     optimizer={"name": "sgd", "learning_rate": 100.0})
    probe.forward()
    dW = probe.backward()["layers"][0]["dW"][0]
    assert report["layers"][0]["grad_norm"][0] == pytest.approx(float(np.linalg.norm(dW.astype(np.float64))))
    grown = report["first_out_of_line"]
    assert grown is None or grown["step"] in report["steps"]
    assert report["suggested_learning_rate"] is not None and report["suggested_learning_rate"] < 100.0
    s.set_optimizer({"learning_rate": report["suggested_learning_rate"]})     # a branch from there
    assert s.timeline.branch.start == report["branch_from"] and s.step()["phase"] == "ready"


@pytest.mark.anyio
@pytest.mark.parametrize("fmt", ["json", "npz"])
async def test_an_export_keeps_the_timeline(client, fmt):
    created = await new_session(client, **{k: NET[k] for k in ("dataset", "layers", "optimizer", "batch_size")})
    base = f"/api/sessions/{created['id']}"
    for _ in range(57):
        await client.post(f"{base}/step")
    await client.post(f"{base}/seek", json={"step": 20})
    await client.post(f"{base}/branch", json={"optimizer": {"learning_rate": 0.001}, "batch_size": 4})
    for _ in range(13):
        await client.post(f"{base}/step")
    await client.post(f"{base}/forward", json={"indices": [1, 2, 3]})
    await client.post(f"{base}/backward")
    await client.post(f"{base}/update")
    await client.post(f"{base}/seek", json={"step": 30})          # on the new branch, mid-way
    await client.post(f"{base}/forward")                             # and a half-done cycle
    before = strict_json(await client.get(f"{base}/timeline", params={"curves": "true"}))
    heads = {}
    for b in before["branches"]:
        await client.post(f"{base}/seek", json={"step": b["head"], "branch": b["id"]})
        heads[b["id"]] = (await client.get(f"{base}/export")).json()["weights"]
    await client.post(f"{base}/seek", json={"step": 30, "branch": 1})
    await client.post(f"{base}/forward")
    exported = await client.get(f"{base}/export", params={"format": fmt})
    assert exported.status_code == 200
    other = (await new_session(client))["id"]
    if fmt == "json":
        put = await client.put(f"/api/sessions/{other}/export", json=exported.json())
    else:
        put = await client.put(f"/api/sessions/{other}/export", content=exported.content,
                               headers={"Content-Type": "application/octet-stream"})
    assert put.status_code == 200, put.text
    after = strict_json(await client.get(f"/api/sessions/{other}/timeline", params={"curves": "true"}))
    assert after["branches"] == before["branches"] and after["curves"] == before["curves"]
    assert after["position"] == {"branch": 1, "step": 30}
    for b in after["branches"]:
        await client.post(f"/api/sessions/{other}/seek", json={"step": b["head"], "branch": b["id"]})
        assert (await client.get(f"/api/sessions/{other}/export")).json()["weights"] == heads[b["id"]]


@pytest.mark.anyio
async def test_an_edited_timeline_is_refused_naming_the_field(client):
    created = await new_session(client, **{k: NET[k] for k in ("dataset", "layers", "optimizer", "batch_size")})
    base = f"/api/sessions/{created['id']}"
    for _ in range(5):
        await client.post(f"{base}/step")
    body = (await client.get(f"{base}/export")).json()
    body["state"]["timeline"]["branches"][0]["oneoff"] = {"2": [10 ** 6]}
    put = await client.put(f"{base}/export", json=body)
    assert put.status_code == 422 and "oneoff" in put.text and "training row numbers" in put.text
    body["state"]["timeline"]["branches"][0]["oneoff"] = {"2": [0, 1]}      # valid, but not what happened
    put = await client.put(f"{base}/export", json=body)
    assert put.status_code == 422 and "does not give the exported weights" in put.text


def test_reset_goes_back_to_step_0_and_keeps_the_steps_taken():
    s = _session()
    first = s.model.get_weights()
    for _ in range(8):
        s.step()
    head = s.model.get_weights()
    s.reset()
    assert s.model.step == 0 and s.history["batch_loss"] == [] and list(s.timeline.branches) == [0]
    _same_weights(s.model.get_weights(), first)
    travel.seek(s, 8)
    _same_weights(s.model.get_weights(), head)
    s.set_optimizer({"learning_rate": 0.005})
    s.reset()                                          # with other settings: a branch from step 0
    tl = s.timeline
    assert s.model.step == 0 and tl.branch.start == 0 and tl.current != 0
    assert s.config["optimizer"]["learning_rate"] == 0.005 and tl.branches[0].head == 8


def test_long_curves_are_thinned_and_epoch_ends_listed():
    s = _session()
    for _ in range(100):
        s.step_quiet()
    line = s.timeline.public(curves=True, points=30)
    curve = line["curves"]["0"]
    assert curve["every"] == 4 and curve["steps"][:3] == [1, 5, 9] and curve["steps"][-1] == 100
    assert curve["batch_loss"] == [s.history["batch_loss"][k - 1] for k in curve["steps"]]
    per_epoch = -(-s.data.n_train // 8)
    assert line["branches"][0]["epoch_steps"] == list(range(per_epoch, 101, per_epoch))


# ----- found in review: each was a wrong number, a 500 or unbounded memory ----------------------
def test_a_dropped_one_off_forward_leaves_no_trace():
    s = _session()
    for _ in range(5):
        s.step()
    s.forward(indices=[1, 2, 3])
    travel.seek(s, 5)                                   # the half-done one-off cycle is dropped
    s.step()
    w6 = s.model.get_weights()
    assert s.timeline.branch.oneoff == {}
    travel.seek(s, 3)
    travel.seek(s, 6)
    _same_weights(s.model.get_weights(), w6)
    s.forward(indices=[4, 5])
    s.set_optimizer({"learning_rate": 0.001})           # mid-cycle: the cycle is redone on the branch
    s.backward()
    s.update()
    assert s.timeline.branch.oneoff == {6: [4, 5]} and s.timeline.branches[0].oneoff == {}


@pytest.mark.anyio
async def test_sibling_branches_on_other_optimizers_import(client):
    created = await new_session(client, **{k: NET[k] for k in ("dataset", "layers", "optimizer", "batch_size")})
    base = f"/api/sessions/{created['id']}"
    for _ in range(6):
        await client.post(f"{base}/step")
    await client.post(f"{base}/branch", json={"step": 5, "optimizer": {"name": "sgd", "momentum": 0.9}})
    await client.post(f"{base}/step")
    await client.post(f"{base}/branch", json={"step": 3, "branch": 0, "optimizer": {"learning_rate": 0.01}})
    await client.post(f"{base}/step")
    body = (await client.get(f"{base}/export")).json()
    put = await client.put(f"{base}/export", json=body)
    assert put.status_code == 200, put.text
    line = strict_json(await client.get(f"{base}/timeline"))
    assert [b["optimizer"]["name"] for b in line["branches"]] == ["adam", "sgd", "adam"]
    assert line["branches"][1]["optimizer"] == {"name": "sgd", "learning_rate": 0.01, "momentum": 0.9}
    body["state"]["timeline"]["branches"][0]["head"] = 10 ** 9
    put = await client.put(f"{base}/export", json=body)
    assert put.status_code == 422 and put.json()["detail"][0]["loc"][-1] == "head"


def test_branches_stay_within_the_budget():
    s = _session()
    s.timeline.budget = 5 * s.timeline.branch.keyframes[0].nbytes
    s.step()
    made = 0
    with pytest.raises(Conflict, match="timeline_bytes"):
        for k in range(20):
            s.set_optimizer({"learning_rate": 0.01 + k / 1000})
            s.step()
            made += 1
    assert made <= 4 and s.timeline.nbytes() <= s.timeline.budget
    assert s.model.phase == "ready" and s.run.pending is None


def test_resets_keep_the_budget_and_show_the_penalty():
    from app.settings import Settings
    store = create_app(Settings(timeline_bytes=100_000)).state.store
    s = store.build(SessionCreate(**NET))
    s.step()
    s.reset("new", 5)
    assert s.timeline.budget == 100_000
    for _ in range(4):
        s.step()
    s.set_regularization({"l2": 0.01})
    s.step()
    s.reset()
    assert s.config["regularization"] == {"l1": 0.0, "l2": 0.01} and s.model.penalty() > 0


def _recount(tl) -> int:
    """The keyframes' bytes counted again from their arrays (what Keyframes.nbytes keeps)."""
    total = 0
    for b in tl.branches.values():
        for state in b.keyframes.values():
            slots = sum(a.nbytes for arrays in state.optimizer["slots"].values() for a in arrays)
            total += sum(w.nbytes for w in state.weights) + slots + 4096
    return total


def test_the_keyframes_byte_count_follows_every_change():
    """The timeline keeps its keyframes' byte count as they come and go (it checks its budget at
    each keyframe; summing them all there made play steps on xor 3× slower after 20,000 steps)."""
    from app.routes.sessions import _rebuild
    from app.session_io import export_json, parse_json
    from app.timeline import Keyframes

    s = _session()
    tl = s.timeline
    tl.budget = 12 * tl.branch.keyframes[0].nbytes
    assert tl.nbytes() == _recount(tl) > 0
    for _ in range(300):                                # keyframes kept, then thinned (interval doubled)
        s.step_quiet()
    assert tl.interval > 10 and tl.nbytes() == _recount(tl) <= tl.budget
    travel.seek(s, 150)
    s.set_optimizer({"name": "sgd", "learning_rate": 0.01})    # a branch: no Adam slots in its keyframes
    assert tl.current == 1
    s.set_batch_size(4)                                 # at the branch's fresh start: in place (settle)
    assert sorted(tl.branches) == [0, 1] and tl.nbytes() == _recount(tl)
    for _ in range(120):
        s.step_quiet()
    assert tl.nbytes() == _recount(tl)
    travel.seek(s, 100, branch=0)
    assert tl.delete(1) == [1] and tl.nbytes() == _recount(tl)

    store = create_app().state.store                    # an import rebuilds the keyframes by replaying
    target = store.build(SessionCreate(**NET))
    copy = _rebuild(store, *parse_json(export_json(s)), target.id)
    assert copy.timeline.nbytes() == _recount(copy.timeline) > 0

    frames = Keyframes({0: tl.branches[0].keyframes[0]})
    one = frames.nbytes
    frames[5] = frames[0]
    frames[5] = frames[0]                               # replaced: counted once
    assert frames.nbytes == 2 * one
    del frames[5]
    assert frames.pop(0).nbytes == one and frames.nbytes == 0 and frames.pop(3, None) is None
    with pytest.raises(TypeError, match="one step at a time"):
        frames.update({1: tl.branches[0].keyframes[0]})
