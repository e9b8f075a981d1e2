"""The OpenAPI document's description (markdown): what the API is, its limits, and the WebSocket
protocol, which OpenAPI cannot list (the protocol itself: app/routes/ws.py's docstring)."""

DESCRIPTION = """
Step a neural network one forward pass, one backward pass and one weight update at a time.

Create a session (`POST /api/sessions`), then `forward` → `backward` → `update` (or `step` for
all three, `epoch` for the rest of an epoch). Tensors come as `{shape, label, values}`; add
`?encoding=b64` for float32 base64, `?layers=1,2` and `?fields=W,a,delta` for less.

**Going back in time.** Every step is kept on a timeline (`GET .../timeline`): `POST .../seek`
stands at any earlier step and answers that step's frame exactly as `step` did; stepping on
replays the same future, a change there (`PATCH`, `POST .../branch`, another batch) starts a
branch that shares the past. After a divergence, `POST .../post-mortem` goes to the last finite
step with the gradient health of the steps before it and a suggested learning rate.

**Errors.** Every error is JSON: `{"detail": "..."}`, or for bad input (422)
`{"detail": [{"loc": [...], "msg": ..., "type": ...}]}` with `loc` naming the field. Each route
lists the statuses it can answer. Every request body has a size limit checked while it is read:
past it the answer is **413** naming the limit (`max_json_bytes` for JSON bodies,
`max_upload_bytes` for an imported session, `max_csv_bytes` for a CSV file; `GET /api/options`
lists every limit under `limits`).

## WebSocket: `/ws/sessions/{session_id}`

Not listed above (OpenAPI cannot describe WebSockets). Connect with `?hold=1` to hold the session
as the page does: it is dropped 20 s (`release_after_seconds`) after the last holding socket closed,
unless one reconnects. Send JSON objects as text frames:

| command | fields | answer |
| --- | --- | --- |
| `forward`, `backward`, `update`, `step`, `epoch`, `state` | `forward`: `indices` (optional, training rows) | `{"type": <command>, "data": <the HTTP answer>}` |
| `play` | `speed`: steps per second (optional, at most `max_play_speed`) | `{"type": "playing", "speed"}`, then frames |
| `pause` | | the last frame, then `{"type": "paused", "reason", "state"}` |
| `options` | `encoding`: `json`/`b64`/`bin`; `layers`: `[l, ...]` or null; `fields`: `[...]` or null; `big`: n or null; `max_fps`: f or null; `ack`: true/false | `{"type": "options", ...}` (the options now) |
| `drawn` | | none: with `ack`, the client drew the last frame (the next one is built now) |

While playing the server sends `{"type": "frame", "seq", "data": <a /step answer with state>}`,
at most `max_fps` a second (default 20). With `"ack": true` the client paces them: after each
frame the next is built only when it has sent `{"command": "drawn"}` (or after 1 s), so it gets
as many frames as it draws and the training builds none it would drop (the page: `ack`, `max_fps`
35, or 24 with big layers). Of layers with more than `big` weights (default
`play_lean_weights`) frames leave out what the page does not draw live unless `fields` asks for
it, and with `b64` (or `bin`) send big tensors as int8 with a scale (`"dtype": "int8q"`). With
`"rows": n` such a layer's `W_updated` and `dW` carry only their first n rows (the units the page
draws; the page asks for the rows it draws and `null` while the layer's panel is on screen), with
`rows_of`, `norm` and `max_abs` of the whole matrix in the tensor's entry. On `pause`
the last frame before `"paused"` is the session's current step.

**Binary frames** (`"encoding": "bin"`, what the page uses): frames and command answers come as
binary messages, every other message stays JSON text. A binary message is

| bytes | what |
| --- | --- |
| 0–3 | H, the header's length (uint32, little-endian) |
| 4 … 4+H−1 | the message as UTF-8 JSON, each tensor `{"shape", "label", "dtype", "offset"}` instead of `values` |
| 0–3 zero bytes | padding: the buffer starts at a multiple of 4 |
| the rest | the buffer: a tensor's entries at byte `offset` of it (a multiple of 4), row-major |

`"dtype": "float32le"`: prod(shape) little-endian float32 values; `"int8q"`: prod(shape) int8 q,
the value q·`scale`. Never NaN or infinity: a non-finite entry is 0 and the tensor has
`"nonfinite": true`. Tensors too large for the answer's budget come as summaries, as in JSON.

Any bad message (a binary frame, bad JSON, an unknown command, a field of the wrong type) gets
`{"type": "error", "command", "status": 422, "detail"}` naming what is wrong; a command out of
order gets status 409; the connection stays open. An unknown session gets an error with status
404 and the socket closes with code 4404.
"""
