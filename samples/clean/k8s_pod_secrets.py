"""KubernetesPodOperator with credentials from Kubernetes Secrets and Jinja lookups: nothing hardcoded."""
from datetime import datetime

from airflow import DAG
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.cncf.kubernetes.secret import Secret
from kubernetes.client import models as k8s

# `secret=` names the Kubernetes Secret object; the value never appears in the DAG.
db_password = Secret(deploy_type="env", deploy_target="DB_PASSWORD", secret="warehouse-db", key="password")
api_token = Secret(deploy_type="volume", deploy_target="/var/secrets/api", secret="reporting-api-token")

with DAG(dag_id="k8s_reporting", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False) as dag:
    KubernetesPodOperator(
        task_id="build_report",
        name="build-report",
        image="registry.internal/reporting:1.4.2",
        cmds=["python", "-m", "reporting.build"],
        arguments=["--date", "{{ ds }}", "--bucket", "{{ var.value.report_bucket }}"],
        secrets=[db_password, api_token],
        env_vars={"DB_HOST": "{{ conn.warehouse.host }}", "DB_USER": "{{ conn.warehouse.login }}"},
        # non-root, and limits that keep one task from starving the other pods on its node
        security_context=k8s.V1PodSecurityContext(run_as_non_root=True, run_as_user=50000),
        container_resources=k8s.V1ResourceRequirements(requests={"cpu": "500m", "memory": "1Gi"}, limits={"cpu": "1", "memory": "2Gi"}),
        get_logs=True,
    )
