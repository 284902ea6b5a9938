"""One DAG per customer, generated from a constant list: the common dynamic-DAG pattern."""
from datetime import datetime

from airflow import DAG
from airflow.operators.python import PythonOperator

CUSTOMERS = {
    "acme": {"schedule": "0 2 * * *", "bucket": "s3://exports/acme"},
    "globex": {"schedule": "0 3 * * *", "bucket": "s3://exports/globex"},
    "initech": {"schedule": "0 4 * * *", "bucket": "s3://exports/initech"},
}


def export(customer: str, bucket: str, **context) -> None:
    print(f"exporting {customer} for {context['ds']} to {bucket}")


def build_dag(customer: str, cfg: dict) -> DAG:
    with DAG(
        dag_id=f"export_{customer}",
        schedule=cfg["schedule"],
        start_date=datetime(2024, 1, 1),
        catchup=False,
        tags=["export", customer],
    ) as dag:
        PythonOperator(
            task_id="export",
            python_callable=export,
            op_kwargs={"customer": customer, "bucket": cfg["bucket"]},
        )
    return dag


for name, config in CUSTOMERS.items():
    globals()[f"export_{name}"] = build_dag(name, config)
