"""A DAG that ships its credentials in the repository (every reader of the repo and of git-sync's volume gets them)."""
from datetime import datetime

from airflow import DAG
from airflow.models import Connection
from airflow.providers.postgres.operators.postgres import PostgresOperator

WAREHOUSE = Connection(
    conn_id="warehouse",
    conn_type="postgres",
    host="warehouse.internal",
    login="etl",
    password="Wh-2024!prod-etl",
)
REPORTING_DB_URI = "postgresql://reporting:R3port1ng-Pa55@reporting-db.internal:5432/reports"
AWS_ACCESS_KEY_ID = "AKIA4Q7ZL5RTW2K6Y3MB"
SLACK_WEBHOOK = "https://hooks.slack.com/services/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"

with DAG(dag_id="warehouse_maintenance", start_date=datetime(2024, 1, 1), schedule="@weekly", catchup=False) as dag:
    PostgresOperator(task_id="vacuum", postgres_conn_id="warehouse", sql="VACUUM ANALYZE;")
