"""Quick in-process cost of POST /webhooks/github versus a bare endpoint in the same app.

Both run through the same ASGI stack (TestClient), alternating, so the ratio is what ingest
(signature, dedupe, parse, store, fold) adds. Usage: python bench/ingest_quick.py [N]
"""

from __future__ import annotations

import copy
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from fastapi import Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devexbot.app import create_app
from devexbot.settings import load_settings
from devexbot.store.migrate import upgrade
from devexbot.wiring import build_services
from tests.github_sender import github_headers, load_fixture

SECRET = "bench-secret"


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(_env_file=None, database_url=f"sqlite:///{tmp}/bench.db",
                                 github_webhook_secret=SECRET,
                                 devexbot_config=Path(tmp) / "none.yaml")
        services = build_services(settings)
        upgrade(services.db.engine)
        app = create_app(settings, services=services)

        @app.post("/bare")
        async def bare(request: Request) -> JSONResponse:
            await request.body()
            return JSONResponse({"status": "stored"}, status_code=202)

        template = load_fixture("check_run.completed")
        bodies = []
        for i in range(n):
            payload = copy.deepcopy(template)
            payload["check_run"]["head_sha"] = f"{i % 200:040x}"  # 200 commits
            payload["check_run"]["name"] = f"check-{i % 7}"
            bodies.append(json.dumps(payload).encode())

        times: dict[str, list[float]] = {"/webhooks/github": [], "/bare": []}
        with TestClient(app) as client:
            for body in bodies:
                for path in times:  # alternate, so drift hits both alike
                    headers = github_headers("check_run", body, secret=SECRET,
                                             delivery_id=str(uuid.uuid4()))
                    start = time.perf_counter()
                    response = client.post(path, content=body, headers=headers)
                    times[path].append(time.perf_counter() - start)
                    assert response.status_code == 202, response.text
        ingest, floor = times["/webhooks/github"], times["/bare"]
        for name, series in (("ingest", ingest), ("bare", floor)):
            q = statistics.quantiles(series, n=100)
            print(f"{name:7s} p50 {q[49] * 1e3:6.2f} ms  p99 {q[98] * 1e3:6.2f} ms  "
                  f"mean {statistics.fmean(series) * 1e3:6.2f} ms")
        print(f"ingest/bare mean ratio {statistics.fmean(ingest) / statistics.fmean(floor):.2f}; "
              f"ingest adds {(statistics.fmean(ingest) - statistics.fmean(floor)) * 1e3:.2f} ms "
              f"per delivery ({n} deliveries, 200 commits, SQLite)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
