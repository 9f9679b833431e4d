"""An Airflow DAG that refreshes IDC cohorts every week with idc-sql's Python API, then
downloads what changed with s5cmd.

Put it in the DAGs folder of an Airflow whose workers have idc-sql and s5cmd installed; set
IDC_COHORTS (the folder of cohort specifications) and IDC_STATE (the refresh state, kept
between runs) in the workers' environment. The BigQuery Sandbox has no scheduled queries: the
schedule is Airflow's.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path

from airflow import DAG

try:  # Airflow 3
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.providers.standard.operators.python import PythonOperator
except ImportError:  # Airflow 2
    from airflow.operators.bash import BashOperator
    from airflow.operators.python import PythonOperator

COHORTS = Path(os.environ.get("IDC_COHORTS", "/srv/cohorts/specs"))
STATE = Path(os.environ.get("IDC_STATE", "/srv/cohorts/state"))
DATA = Path(os.environ.get("IDC_DATA", "/srv/cohorts/data"))


def refresh_cohorts() -> list[str]:
    """Refresh every cohort; return the manifests of what to download (pushed to XCom)."""
    import idc_sql

    specs = sorted(str(p) for p in COHORTS.glob("*.yaml"))
    outcomes = idc_sql.refresh(specs, STATE, wait=600)
    for o in outcomes:
        state = f"changed since {o.previous}" if o.changed else "unchanged"
        print(f"{o.cohort}: IDC v{o.release}, {state}: +{o.added} -{o.removed} ~{o.revised}")
    return [str(o.fetch) for o in outcomes if o.changed and (o.added or o.revised)]


DOWNLOAD = (
    "set -e; mkdir -p {{ params.data }}; cd {{ params.data }}; "
    "{% for manifest in ti.xcom_pull(task_ids='refresh') %}"
    "s5cmd --no-sign-request --endpoint-url https://s3.amazonaws.com run {{ manifest }}; "
    "{% endfor %}true"
)

with DAG(
    dag_id="idc_cohorts_refresh",
    schedule="@weekly",
    start_date=datetime.datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,  # one refresh of the state at a time (idc-sql's lock makes sure too)
    tags=["idc"],
) as dag:
    refresh = PythonOperator(task_id="refresh", python_callable=refresh_cohorts)
    download = BashOperator(task_id="download", bash_command=DOWNLOAD, params={"data": str(DATA)})
    refresh >> download
