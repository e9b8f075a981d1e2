"""Bounded resources (issue 12, items 5-7 and 12): request bodies, .npz imports and CSV files have
limits checked before the work they would cost; each refusal names its limit, and the session and
the server are unchanged and still work afterwards. Memory is the server process's peak, measured."""
from __future__ import annotations

import io
import json
import time
import zipfile

import numpy as np
import pytest
from app_helpers import SMALL_NET, new_session, strict_json
from server_proc import ServerProcess, raw_request

from app.settings import Settings

MB = 2**20
pytestmark = pytest.mark.anyio      # the async tests; the sync ones ignore it


@pytest.fixture(scope="module")
def server():
    with ServerProcess() as proc:
        yield proc


def _session(base: str) -> str:
    import httpx
    r = httpx.post(base + "/api/sessions", json=SMALL_NET, timeout=30)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _still_works(base: str, sid: str) -> None:
    import httpx
    assert httpx.post(f"{base}/api/sessions/{sid}/step", timeout=30).status_code == 200
    assert httpx.get(base + "/api/health", timeout=30).status_code == 200


def send_measured(server, request_line: str, content_type: str, chunks, length: int):
    """``request_line`` ("POST /path") with a body of ``length`` bytes sent as ``chunks`` on a raw
    socket; (status, answer, the server's peak growth in MB, seconds)."""
    head = (f"{request_line} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {length}\r\n\r\n")
    started = time.monotonic()
    (status, answer), growth = server.peak_growth_mb(lambda: raw_request(server.base, head, chunks))
    return status, answer, growth, time.monotonic() - started


# --- item 6: every JSON body has a size limit, enforced while reading ---------------------------

def test_a_60_mb_json_body_is_refused_by_its_declared_size(server):
    body = json.dumps({**SMALL_NET, "layers": [{"units": 1, "activation": "tanh"}] * 1_900_000}).encode()
    assert len(body) > 55 * MB
    status, answer, growth, seconds = send_measured(
        server, "POST /api/sessions", "application/json", (body[i:i + MB] for i in range(0, len(body), MB)), len(body))
    assert status == 413, answer
    detail = json.loads(answer)["detail"]
    assert "max_json_bytes" in detail and "1000000" in detail
    assert growth < 200, f"the server's peak grew by {growth:.0f} MB"
    assert seconds < 30                             # a generous guard only
    print(f"60 MB JSON body: 413, server peak +{growth:.1f} MB")


def test_a_chunked_json_body_is_cut_at_the_limit(server):
    """No Content-Length: the server counts while reading and stops at max_json_bytes."""
    sid = _session(server.base)
    pieces = [b'{"optimizer": {"name": "sgd"}, "pad": "'] + [b" " * 65536] * 1000    # 64 MB

    def chunked():              # chunked transfer encoding: no Content-Length to refuse early
        for piece in pieces:
            yield b"%x\r\n%s\r\n" % (len(piece), piece)
    head = (f"PATCH /api/sessions/{sid} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    (status, answer), growth = server.peak_growth_mb(lambda: raw_request(server.base, head, chunked()))
    assert status == 413 and "max_json_bytes" in json.loads(answer)["detail"]
    assert growth < 200
    _still_works(server.base, sid)


@pytest.mark.parametrize("settings", [Settings(max_json_bytes=5000)])
async def test_the_json_limit_is_a_setting_and_counts_the_bytes_read(client, settings):
    sid = (await new_session(client))["id"]
    read = []

    async def body():
        for _ in range(100):
            read.append(1)
            yield b" " * 1000
    r = await client.post(f"/api/sessions/{sid}/forward", content=body(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "5000 bytes (max_json_bytes)" in r.json()["detail"]
    assert len(read) <= 7                     # the server stopped reading just past the limit
    r = await client.post("/api/sessions", content=b"{" + b" " * 6000 + b"}",
                          headers={"content-type": "application/json"})
    assert r.status_code == 413 and "max_json_bytes" in r.json()["detail"]
    assert (await client.post(f"/api/sessions/{sid}/forward")).status_code == 200


async def test_list_lengths_are_bounded_in_the_schema(client):
    """Under the body limit, a long list stops at its static bound (then Settings' exact limits)."""
    started = time.monotonic()
    r = await client.post("/api/sessions", json={**SMALL_NET, "layers": [{"units": 1}] * 60_000})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "layers"]
    assert "64" in r.json()["detail"][0]["msg"] and len(r.content) < 20_000
    assert time.monotonic() - started < 10
    r = await client.post("/api/sessions", json={**SMALL_NET, "layers": [{"units": 1}] * 9})
    assert r.status_code == 422 and r.json()["detail"][0]["msg"] == "at most 8 layers, got 9"
    r = await client.post("/api/compare", json={**SMALL_NET, "learning_rates": [0.1] * 65})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "learning_rates"]
    r = await client.post("/api/compare", json={**SMALL_NET, "learning_rates": [0.1] * 9})
    assert r.status_code == 422 and "1 to 8 learning rates" in r.text
    sid = (await new_session(client))["id"]
    r = await client.post(f"/api/sessions/{sid}/forward", json={"indices": [0] * 4097})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "indices"]
    r = await client.post(f"/api/sessions/{sid}/forward", json={"indices": [0] * 1025})
    assert r.status_code == 422 and "at most 1024 rows" in r.text
    r = await client.post(f"/api/sessions/{sid}/forward", json={"indices": [0] * 1024})
    assert r.status_code == 200 and len(strict_json(r)["batch"]["indices"]) == 1024


# --- item 5: an .npz bomb is refused from its headers, before anything is inflated --------------

def _export_npz(base: str, sid: str) -> bytes:
    import httpx
    r = httpx.get(f"{base}/api/sessions/{sid}/export?format=npz", timeout=30)
    assert r.status_code == 200
    return r.content


def _replace_member(npz: bytes, name: str, payload: bytes, compress: bool = True) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(npz)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename != name:
                dst.writestr(info, src.read(info))
        dst.writestr(name, payload, compress_type=zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED)
    return out.getvalue()


def _npy(shape, dtype=np.float32) -> bytes:
    """An .npy file of zeros of ``shape``, written without allocating it (header + zero bytes)."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": np.dtype(dtype).str, "fortran_order": False,
                                                  "shape": tuple(shape)})
    return header.getvalue() + bytes(int(np.prod(shape)) * np.dtype(dtype).itemsize)


def test_an_npz_bomb_is_refused_before_it_is_inflated(server):
    sid = _session(server.base)
    export = _export_npz(server.base, sid)
    before = strict_json(__import__("httpx").get(f"{server.base}/api/sessions/{sid}/export", timeout=30))
    bomb = _replace_member(export, "w0.npy", _npy((2**28,)))          # 1 GiB of zeros
    assert len(bomb) < 2 * MB
    status, answer, growth, seconds = send_measured(server, f"PUT /api/sessions/{sid}/export",
                                                    "application/octet-stream", [bomb], len(bomb))
    assert status == 422, answer
    error = json.loads(answer)["detail"][0]
    assert "w0.npy" in str(error["loc"]) + error["msg"] and "max_upload_bytes" in error["msg"]
    assert growth < 200, f"the server's peak grew by {growth:.0f} MB"
    assert seconds < 10
    print(f"1 GiB .npz bomb: 422 in {seconds:.2f} s, server peak +{growth:.1f} MB")
    after = strict_json(__import__("httpx").get(f"{server.base}/api/sessions/{sid}/export", timeout=30))
    assert after == before
    _still_works(server.base, sid)


async def test_npz_members_are_checked_against_the_model_from_their_headers(client):
    sid = (await new_session(client))["id"]
    export = (await client.get(f"/api/sessions/{sid}/export?format=npz")).content

    async def put(raw):
        return await client.put(f"/api/sessions/{sid}/export", content=raw,
                                headers={"content-type": "application/octet-stream"})
    cases = {   # member -> (its new content, what the 422 must say)
        "w0.npy": (_npy((3, 8)), "shape [3, 8] does not match [2, 8]"),
        "w1.npy": (_npy((8,), np.complex64), "dtype"),
        "w2.npy": (_npy((64, 64)), "does not match"),
    }
    for member, (payload, said) in cases.items():
        r = await put(_replace_member(export, member, payload))
        assert r.status_code == 422, r.text
        error = r.json()["detail"][0]
        assert error["msg"].startswith(member) and said in error["msg"], error
        assert error["loc"] == ["body", "weights", int(member[1])]          # as for a JSON import
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w") as z:
        for i in range(300):
            z.writestr(f"x{i}.npy", b"")
    r = await put(many.getvalue())
    assert r.status_code == 422 and "members" in r.json()["detail"][0]["msg"]
    lying = _replace_member(export, "w0.npy", _npy((2, 8))[:-8], compress=False)     # shorter than its header says
    assert (await put(lying)).status_code == 422
    assert (await put(export)).status_code == 200                      # the real export still imports
    assert (await client.post(f"/api/sessions/{sid}/step")).status_code == 200


# --- item 7: a CSV file's parsing is linear, and its columns are limited -------------------------

def test_a_csv_of_100000_columns_is_refused_quickly(server):
    header = ",".join(f"c{i}" for i in range(100_000))
    raw = (header + "\n" + "\n".join(",".join(["1"] * 100_000) for _ in range(7)) + "\n").encode()
    assert 1 * MB < len(raw) < 5_000_000
    status, answer, growth, seconds = send_measured(server, "POST /api/datasets/csv", "text/csv", [raw], len(raw))
    assert status == 422, answer
    msg = json.loads(answer)["detail"][0]["msg"]
    assert "100000 columns" in msg and "max_csv_columns = 2000" in msg
    assert growth < 200 and seconds < 10
    print(f"100,000-column CSV: 422 in {seconds:.2f} s, server peak +{growth:.1f} MB")


def test_csv_parsing_is_linear_in_the_columns():
    from engine.datasets.csv_data import load_csv
    names = [f"c{i}" for i in range(50_000)]
    started = time.monotonic()
    with pytest.raises(ValueError, match="appears twice"):
        load_csv((",".join(names + ["c7"]) + "\n").encode(), target="c0", max_columns=100_000)
    assert time.monotonic() - started < 5
    rows = "\n".join(",".join(str((i * j) % 7) for j in range(1999)) + f",{i % 2}" for i in range(8))
    data = load_csv((",".join(f"f{j}" for j in range(1999)) + ",y\n" + rows).encode(), target="y")
    assert data.x_train.shape[1] == 1999


@pytest.mark.parametrize("settings", [Settings(max_csv_columns=3)])
async def test_the_column_limit_is_a_setting(client, settings):
    r = await client.post("/api/datasets/csv", content=b"a,b,c,d\n" + b"1,2,3,0\n" * 4 + b"1,2,3,1\n" * 4)
    assert r.status_code == 422 and "4 columns" in r.text and "max_csv_columns = 3" in r.text
    r = await client.post("/api/datasets/csv", content=b"a,b,c\n" + b"1,2,0\n" * 4 + b"1,2,1\n" * 4)
    assert r.status_code == 201


# --- item 12: a header line over 64 KiB gives the whole target column name ----------------------

async def test_a_long_header_line_names_the_whole_last_column(client):
    names = [f"feature_{i:05d}_" + "x" * 40 for i in range(1500)] + ["the_target_column"]
    header = ",".join(names)
    assert len(header) > 65536
    rows = "".join(",".join(["1"] * 1500) + f",{i % 2}\n" for i in range(8))
    r = await client.post("/api/datasets/csv", content=(header + "\n" + rows).encode())
    assert r.status_code == 201, r.text[:300]
    answer = strict_json(r)
    assert answer["options"]["target"] == "the_target_column" and answer["columns"][-1] == "the_target_column"
    assert len(answer["columns"]) == 1501
