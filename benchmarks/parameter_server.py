"""How many exchanges per second one parameter server sustains, for a network of a given size.

    python benchmarks/parameter_server.py --params 677429 --clients 2 --seconds 20 --nodes 2

Starts a local Ray cluster (``--nodes`` nodes sharing the cores), one
:class:`asyncrl.runtime.ray.server.ParameterServer` holding ``--params``
float32 parameters (677,429: the paper's Atari network with 4 actions), and
``--clients`` actors on the other node(s) that exchange with it back to
back, as groups do (send a change, take the parameters back), for
``--seconds``. Prints exchanges/s and MB/s through the server: the ceiling
that docs/cluster.md's capacity model divides by a group's exchange rate.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import ray
from ray.cluster_utils import Cluster

from asyncrl.runtime.ray.server import ParameterServer


@ray.remote(num_cpus=1)
class Client:
    """Exchanges with the server back to back, like a group with nothing else to do."""

    def __init__(self, size: int) -> None:
        self.delta = np.full(size, 1e-6, dtype=np.float32)

    def run(self, server: ray.actor.ActorHandle, seconds: float) -> int:
        done, end = 0, time.monotonic() + seconds
        while time.monotonic() < end:
            ray.get(server.exchange.remote(self.delta, 1, 0))
            done += 1
        return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--params", type=int, default=677_429, help="float32 parameters in the network")
    parser.add_argument("--clients", type=int, default=2, help="actors exchanging at once")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--nodes", type=int, default=2, help="local Ray nodes sharing the cores")
    parser.add_argument("--json", type=Path, help="write the result here")
    args = parser.parse_args()

    cores = os.cpu_count() or 1
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": max(1, cores // args.nodes),
                                                            "object_store_memory": 200 * 2**20,
                                                            "include_dashboard": False})
    for _ in range(args.nodes - 1):
        cluster.add_node(num_cpus=max(1, cores // args.nodes), object_store_memory=200 * 2**20)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, logging_level="ERROR")
    try:
        server = ray.remote(num_cpus=0)(ParameterServer).remote(
            np.zeros(args.params, np.float32), None, 0, 0, None, 10**12)
        clients = [Client.options(num_cpus=0).remote(args.params) for _ in range(args.clients)]
        ray.get([c.run.remote(server, 2.0) for c in clients])  # warm-up
        start = time.monotonic()
        counts = ray.get([c.run.remote(server, args.seconds) for c in clients])
        elapsed = time.monotonic() - start
    finally:
        ray.shutdown()
        cluster.shutdown()
    rate = sum(counts) / elapsed
    megabytes = 2 * args.params * 4 / 1e6  # the change in, the parameters out
    result = {"params": args.params, "clients": args.clients, "nodes": args.nodes, "cores": cores,
              "exchanges_per_s": rate, "mb_per_exchange": megabytes, "mb_per_s": rate * megabytes}
    print(f"{args.clients} clients, {args.params:,} parameters ({megabytes:.2f} MB per exchange, both ways): "
          f"{rate:,.1f} exchanges/s, {rate * megabytes:,.0f} MB/s through one parameter server")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
