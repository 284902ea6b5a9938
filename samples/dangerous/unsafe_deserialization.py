"""Loads model and pipeline configuration with deserializers that execute code."""
import pickle
from datetime import datetime

import yaml
from airflow import DAG
from airflow.decorators import task

with open("/shared/pipeline.yaml") as fh:
    PIPELINE = yaml.load(fh, Loader=yaml.Loader)

with DAG(dag_id="scoring", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False) as dag:

    @task
    def score(path: str = "/shared/model.pkl") -> None:
        with open(path, "rb") as fh:
            model = pickle.load(fh)
        print(model)

    score()
