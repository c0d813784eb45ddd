#!/bin/bash
# Runs once, when the PostgreSQL volume is new: one database and owner for wildwatch, one for Airflow.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" \
     -v ww_pw="$WILDWATCH_DB_PASSWORD" -v af_pw="$AIRFLOW_DB_PASSWORD" <<'SQL'
CREATE ROLE wildwatch LOGIN PASSWORD :'ww_pw';
CREATE ROLE airflow LOGIN PASSWORD :'af_pw';
CREATE DATABASE wildwatch OWNER wildwatch;
CREATE DATABASE airflow OWNER airflow;
SQL
