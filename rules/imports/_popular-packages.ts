/**
 * Import names of packages DAG code commonly uses (PyPI's most downloaded, Airflow's providers' dependencies, the
 * data stack) — the names a typosquatted package imitates — and real packages one edit away from one of them
 * (`boto` and `boto3`, `psycopg` and `psycopg2`), which are not typosquats.
 */
export const POPULAR_PACKAGES: readonly string[] = [
  'airflow', 'requests', 'urllib3', 'boto3', 'botocore', 'pandas', 'numpy', 'pyarrow', 'sqlalchemy', 'psycopg2', 'pymysql',
  'snowflake', 'google', 'azure', 'paramiko', 'pysftp', 'yaml', 'jinja2', 'pendulum', 'kubernetes', 'docker', 'redis',
  'pymongo', 'elasticsearch', 'slack_sdk', 'cryptography', 'jwt', 'dateutil', 'pytz', 'openpyxl', 'xlrd', 'bs4', 'lxml',
  'httpx', 'aiohttp', 'tenacity', 'pydantic', 'attrs', 'click', 'dbt', 'great_expectations', 'smart_open', 's3fs',
  'gcsfs', 'fsspec', 'scipy', 'sklearn', 'matplotlib', 'seaborn', 'tensorflow', 'torch', 'transformers', 'setuptools',
  'certifi', 'idna', 'charset_normalizer', 'simplejson', 'ujson', 'orjson', 'colorama', 'termcolor', 'tqdm', 'rich',
  'psutil', 'pexpect', 'fabric', 'hvac', 'ldap3', 'pyodbc', 'pymssql', 'cx_Oracle', 'oracledb', 'trino', 'pyhive',
  'databricks', 'mlflow', 'dask', 'polars', 'duckdb', 'minio', 'pysnmp', 'tabulate', 'cachetools', 'filelock',
  'pyspark', 'confluent_kafka', 'kafka', 'pika', 'celery', 'flask', 'werkzeug', 'marshmallow', 'pyjwt', 'openai',
  'anthropic', 'stripe', 'twilio', 'sendgrid', 'tableauserverclient', 'gspread', 'pygsheets', 'facebook_business',
  'dotenv', 'decouple', 'structlog', 'sentry_sdk', 'datadog', 'prometheus_client', 'jsonschema', 'cerberus',
  'cosmos', 'astronomer', 'apache_beam', 'pendulum', 'croniter', 'python_http_client', 'selenium', 'playwright',
];

export const NOT_TYPOSQUATS: ReadonlySet<string> = new Set([
  'boto', 'psycopg', 'attr', 'pyyaml', 'jinja', 'kafka', 'dask', 'redis', 'jose', 'trio', 'docopt', 'pyspark', 'pysftp',
  'httplib2', 'urllib', 'urllib2', 'oauth2', 'six', 'mock', 'numba', 'scrapy', 'spacy', 'arrow', 'torchvision',
  'selenium', 'pydantic_core', 'pymssql', 'pysnmp', 'fabric2', 'invoke', 'sqlmodel', 'sqlglot', 'sqlparse', 'pandera',
  'openai', 'tensorboard', 'dbt_core', 'dockerfile', 'requests_oauthlib', 'requests_toolbelt', 'colorlog', 'xlwt',
  'xlsxwriter', 'xlrd2', 'pytest', 'ujson', 'psycopg2cffi', 'redshift_connector', 'snowflake_connector', 'cattrs',
  'aiohttp_retry', 'httpcore', 'jsonpath', 'jsonpatch', 'pyasn1', 'rsa', 'dbtcore', 'apache', 'pymysql2', 'mysqlclient',
]);

/** Distribution names (what `pip install` and requirement files say) of popular packages whose import name differs. */
export const POPULAR_DISTRIBUTIONS: readonly string[] = [
  ...POPULAR_PACKAGES.map((p) => p.toLowerCase().replace(/_/g, '-')),
  'python-dateutil', 'scikit-learn', 'beautifulsoup4', 'pyyaml', 'apache-airflow', 'psycopg2-binary', 'pillow',
  'google-cloud-bigquery', 'google-cloud-storage', 'snowflake-connector-python', 'opencv-python', 'protobuf', 'grpcio',
  'typing-extensions', 'wheel', 'lightgbm', 'xgboost', 'pytest', 'python-dotenv', 'slack-sdk', 'jsonschema', 'pymssql',
];

/** Real distributions one edit from a popular one. */
export const NOT_TYPOSQUAT_DISTRIBUTIONS: ReadonlySet<string> = new Set([
  ...[...NOT_TYPOSQUATS].map((p) => p.toLowerCase().replace(/_/g, '-')),
  'psycopg2', 'psycopg', 'psycopg-binary', 'pytest-mock', 'dateutils', 'grpcio-tools', 'pyyaml-include', 'pandas-gbq',
]);
