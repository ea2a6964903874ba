"""The worker's one-page HTML status: health, earnings, models and recent jobs. Server-rendered,
no scripts, refreshed by the browser every 5 s."""

from __future__ import annotations

from html import escape
from typing import Any

from web3 import Web3


def render(health: dict[str, Any], jobs: list[dict[str, Any]]) -> str:
    ok = health["status"] == "ok"
    rows = "".join(
        f"<tr><td>{job['job_id']}</td><td class='{escape(job['state'])}'>{escape(job['state'])}</td>"
        f"<td><code>{escape(job['result_hash'] or '-')}</code></td><td>{escape(job['updated'])}</td></tr>"
        for job in jobs
    )
    models = "".join(f"<li>{escape(model)}</li>" for model in health["models"])
    earned = Web3.from_wei(health["earned_wei"], "ether")
    gas = Web3.from_wei(health["gas_spent_wei"], "ether")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>Assay worker {escape(health["address"][:10])}…</title>
<style>
body {{ font: 15px/1.4 system-ui, sans-serif; margin: 2rem; color: #1b1f24; }}
h1 {{ font-size: 1.4rem; }} .badge {{ padding: .2rem .6rem; border-radius: 1rem; color: #fff;
  background: {"#1a7f37" if ok else "#cf222e"}; }}
.cards {{ display: flex; gap: 1rem; margin: 1rem 0; }}
.card {{ border: 1px solid #d0d7de; border-radius: .5rem; padding: .8rem 1.2rem; min-width: 9rem; }}
.card b {{ display: block; font-size: 1.5rem; }}
table {{ border-collapse: collapse; width: 100%; }} td, th {{ border-bottom: 1px solid #d0d7de;
  padding: .35rem .6rem; text-align: left; }} .settled {{ color: #1a7f37; }} .failed, .lost {{ color: #cf222e; }}
code {{ font-size: .8rem; }}
</style></head><body>
<h1>Assay worker <code>{escape(health["address"])}</code> <span class="badge">{escape(health["status"])}</span></h1>
<p>chain {health["chain_id"]} · last scanned block {health["last_block"]}</p>
{f'<p class="idle">idle: {escape(health["idle_reason"])}</p>' if health.get("idle_reason") else ""}
<div class="cards">
<div class="card">earned<b>{earned:.6f} ETH</b></div>
<div class="card">jobs settled<b>{health["jobs_settled"]}</b></div>
<div class="card">jobs in flight<b>{health["active_jobs"]}</b></div>
<div class="card">refused / failed<b>{health["jobs_refused"]} / {health["jobs_failed"]}</b></div>
<div class="card">gas spent<b>{gas:.6f} ETH</b></div>
</div>
<h2>Models</h2><ul>{models}</ul>
<h2>Recent jobs</h2>
<table><tr><th>job</th><th>state</th><th>result hash</th><th>updated (UTC)</th></tr>{rows}</table>
</body></html>"""
