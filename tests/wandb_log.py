"""Read the records of a wandb ``.wandb`` log file (for tests).

wandb 0.31 no longer ships a Python reader. The file is a 7-byte header
(":W&B", magic, version) followed by a LevelDB-style log: 32 KiB blocks of
chunks, each chunk a 7-byte header (crc32c, little-endian length, kind: 1
full, 2 first, 3 middle, 4 last) and its data. A record is one protobuf
``wandb_internal_pb2.Record``.
"""

from __future__ import annotations

import json
from pathlib import Path

from wandb.proto import wandb_internal_pb2

BLOCK = 32 * 1024
HEADER = 7


def read_records(path: Path) -> list[wandb_internal_pb2.Record]:
    data = path.read_bytes()
    assert data[:4] == b":W&B", f"{path} is not a wandb log"
    records, pos, pending = [], HEADER, b""
    while pos + HEADER <= len(data):
        left_in_block = BLOCK - pos % BLOCK
        if left_in_block < HEADER:  # block trailer padding
            pos += left_in_block
            continue
        length = int.from_bytes(data[pos + 4 : pos + 6], "little")
        kind = data[pos + 6]
        if kind == 0:  # zero padding to the end of the block
            pos += left_in_block
            continue
        pending += data[pos + HEADER : pos + HEADER + length]
        pos += HEADER + length
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            records.append(record)
            pending = b""
    return records


def history(path: Path) -> list[dict[str, object]]:
    """Every logged row, as {key: value}."""
    rows = []
    for record in read_records(path):
        if record.WhichOneof("record_type") == "history":
            rows.append({(item.key or "/".join(item.nested_key)): json.loads(item.value_json)
                         for item in record.history.item})
    return rows


def run_info(path: Path) -> dict[str, object]:
    """The run's group, tags and top-level config keys."""
    run = next(r.run for r in read_records(path) if r.WhichOneof("record_type") == "run")
    return {"group": run.run_group, "tags": list(run.tags), "config_keys": {i.key for i in run.config.update}}
