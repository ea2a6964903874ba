"""Worker throughput when the model runs off the worker's CPU, for docs/benchmarks.md.

    source scripts/setup.sh && python scripts/bench_pipeline.py [--jobs 200] [--batch 32] [--latency 0.2]

A GPU rig's worker mostly waits: on the GPU for the model, on the chain for its transactions. To
measure how well the worker overlaps the two on a machine without a GPU, the model here is an
OpenAI-compatible HTTP server (the `openai-http` runtime, as in front of vLLM) whose every
completion takes `--latency` seconds of waiting and echoes its prompt. One worker serves it on a
fresh anvil (automine) at `--batch`; `--jobs` prompts are posted in `post_jobs` transactions of 50
and timed from the first post to the last result on chain. "raw" serves the same prompts through
the same runtime in this process, batch after batch, with no chain at all.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.openai_server

from assay_worker.runtimes import OpenAIHTTPRuntime, RuntimeSpec
from assay_worker.runtimes._base import canonical
from bench_worker import model_seconds, post_and_time, serving

from tests.openai_server import OpenAIServer


class EchoModel:
    """What the HTTP server runs: the prompt back, at no cost (the latency is the server's)."""

    def run(self, inputs: list[bytes]) -> list[bytes]:
        return [canonical({"text": json.loads(data)["prompt"], "finish_reason": "stop"}) for data in inputs]


def served_spec(base_url: str, batch: int) -> RuntimeSpec:
    return RuntimeSpec(
        "openai-http",
        "bench/echo-over-http",
        "none",
        "llm-greedy",
        base_url=base_url,
        options={"concurrency": batch, "default_max_new_tokens": 8},
    )


def prompts(count: int) -> list[bytes]:
    return [f"Job {n}: overlap the model with the chain.".encode() for n in range(count)]


def protocol_seconds(spec: RuntimeSpec, count: int, batch: int) -> tuple[float, float]:
    """Seconds from the first post to the last result, and the seconds the model ran meanwhile."""
    with serving(batch, models=(), extra_env={"ASSAY_WORKER_MODELS": json.dumps([spec.as_config()])}) as (
        chain,
        requester,
        worker,
    ):
        before = model_seconds(worker)
        seconds = post_and_time(chain, requester, spec.manifest, prompts(count))[0]
        return seconds, model_seconds(worker) - before


def raw_seconds(spec: RuntimeSpec, count: int, batch: int) -> float:
    runtime = OpenAIHTTPRuntime(spec)
    runtime.load()
    inputs = prompts(count)
    started = time.monotonic()
    for first in range(0, count, batch):
        runtime.run(inputs[first : first + batch])
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds each completion takes on the server")
    args = parser.parse_args()
    with OpenAIServer(EchoModel(), "bench/echo-over-http") as server:  # type: ignore[arg-type]
        server.delay = args.latency
        spec = served_spec(server.base_url, args.batch)
        protocol, busy = protocol_seconds(spec, args.jobs, args.batch)
        raw = raw_seconds(spec, args.jobs, args.batch)
    print(f"jobs {args.jobs}, batch {args.batch}, server latency {args.latency:.2f} s a completion")
    print(f"protocol {protocol:.2f} s ({args.jobs / protocol:.1f} jobs/s), raw {raw:.2f} s")
    print(f"throughput protocol/raw {raw / protocol:.2f}; model busy {busy / protocol:.0%} of the protocol run")


if __name__ == "__main__":
    main()
