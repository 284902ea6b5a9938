"""Nightly orders ETL: classic operators, credentials from Airflow connections, safe macros only."""
from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.providers.postgres.operators.postgres import PostgresOperator

default_args = {
    "owner": "data-platform",
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
}

with DAG(
    dag_id="orders_etl",
    start_date=datetime(2024, 1, 1),
    schedule="@daily",
    catchup=False,
    default_args=default_args,
    tags=["orders"],
) as dag:
    extract = BashOperator(
        task_id="extract",
        # Safe macros: {{ ds }} is rendered by Airflow from the logical date, not from user input.
        bash_command="python /opt/etl/extract.py --date {{ ds }} --out /data/orders/{{ ds_nodash }}.csv",
    )
    load = PostgresOperator(
        task_id="load",
        postgres_conn_id="warehouse",
        sql="COPY staging.orders FROM '/data/orders/{{ ds_nodash }}.csv' CSV HEADER",
    )
    notify = BashOperator(
        task_id="notify",
        # User-supplied values go through the environment and are quoted by the shell, not spliced into the command.
        bash_command='echo "loaded orders for $RUN_LABEL"',
        env={"RUN_LABEL": "{{ dag_run.conf.get('label', 'nightly') }}"},
    )
    extract >> load >> notify
