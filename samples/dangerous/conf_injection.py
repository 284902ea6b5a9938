"""Anyone who can trigger this DAG with a conf (UI, API, CLI) runs shell commands on the worker."""
from datetime import datetime

from airflow import DAG
from airflow.decorators import task
from airflow.operators.bash import BashOperator
from airflow.providers.ssh.operators.ssh import SSHOperator

with DAG(dag_id="adhoc_export", start_date=datetime(2024, 1, 1), schedule=None, catchup=False) as dag:
    export = BashOperator(
        task_id="export",
        bash_command="pg_dump --table {{ dag_run.conf['table'] }} warehouse > /exports/{{ params.target }}.sql",
    )
    cleanup = SSHOperator(
        task_id="cleanup",
        ssh_conn_id="exports_host",
        command="rm -rf /exports/{{ dag_run.conf['old_dir'] }}",
    )

    @task.bash
    def archive(name: str) -> str:
        return f"tar czf /archive/{name}.tgz /exports"

    export >> cleanup >> archive("{{ dag_run.conf['archive_name'] }}")
