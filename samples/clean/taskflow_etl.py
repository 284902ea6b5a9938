"""TaskFlow API pipeline: secrets are looked up at run time, inside tasks."""
import json

import pendulum
from airflow.decorators import dag, task
from airflow.hooks.base import BaseHook
from airflow.models import Variable


@dag(schedule="@hourly", start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False, tags=["metrics"])
def metrics_pipeline():
    @task
    def fetch(api_conn_id: str = "metrics_api") -> dict:
        import requests

        conn = BaseHook.get_connection(api_conn_id)
        token = conn.password
        resp = requests.get(f"https://{conn.host}/v1/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        resp.raise_for_status()
        return resp.json()

    @task
    def transform(payload: dict) -> list:
        threshold = json.loads(Variable.get("metrics_thresholds", default_var="{}"))
        return [m for m in payload.get("items", []) if m["value"] >= threshold.get(m["name"], 0)]

    @task
    def publish(rows: list) -> None:
        print(f"publishing {len(rows)} rows")

    publish(transform(fetch()))


metrics_pipeline()
