/**
 * Airflow hooks and cloud SDK clients used while the file is parsed: `S3Hook(...).read_key(...)`,
 * `PostgresHook(...).get_records(...)`, `s3 = boto3.client("s3"); s3.get_object(...)`,
 * `storage.Client().bucket(b).blob(k).download_as_text()`. Each method call reaches the network (and a hook's first
 * one looks its connection up in the metadata database or the secrets backend). Constructing the object does not:
 * the calls made on it, chained or through the name it is bound to, are what count.
 */
import type { SyntaxNode } from 'tree-sitter';
import type { RuleContext } from '../../src/engine/context';
import { laterUsesOfBinding } from '../../src/engine/locate';

/** Hooks of Airflow and its providers (any module path), by class name. */
const HOOKS = [
  'S3Hook', 'GCSHook', 'BigQueryHook', 'PostgresHook', 'MySqlHook', 'SnowflakeHook', 'HttpHook', 'SSHHook', 'SFTPHook',
  'MsSqlHook', 'OracleHook', 'RedshiftSQLHook', 'DbApiHook', 'AwsBaseHook', 'AwsGenericHook', 'WasbHook',
  'DatabricksHook', 'DatabricksSqlHook', 'SlackHook', 'SlackWebhookHook', 'SqliteHook', 'TrinoHook', 'HiveServer2Hook',
  'MongoHook', 'RedisHook', 'ElasticsearchSQLHook', 'DynamoDBHook', 'AthenaHook', 'LambdaHook', 'SecretsManagerHook',
  'KubernetesHook', 'FTPHook', 'SambaHook', 'VerticaHook', 'ClickHouseHook',
];

export const CLIENT_CONSTRUCTORS: readonly string[] = [
  ...HOOKS.map((h) => `airflow.**.${h}`),
  'boto3.client',
  'boto3.resource',
  'google.cloud.storage.Client',
  'google.cloud.bigquery.Client',
];

/** boto3 client/resource members that do not call AWS. */
const BOTO_LOCAL = new Set(['get_paginator', 'can_paginate', 'get_waiter', 'generate_presigned_url', 'generate_presigned_post', 'close', 'Bucket', 'Object', 'Table', 'Queue']);
/** Google client methods that call the API (the others — `bucket`, `blob`, `dataset`, `table` — build references). */
const GOOGLE_CALLS = /^(download_|upload_|list_|get_|query|insert_rows|load_table|extract_table|copy_|exists$|reload$|delete|create_|patch$|update_)/;

export interface ClientCall {
  call: SyntaxNode;
  /** `S3Hook.read_key`, `boto3.client.get_object` */
  fn: string;
}

/** The calls made on the object `ctor` (a constructor call of `ctorName`) builds that reach the network. */
export function networkCallsOn(ctor: SyntaxNode, ctorName: string, ctx: RuleContext): ClientCall[] {
  const kind = ctorName.startsWith('boto3.') ? 'boto' : ctorName.startsWith('google.') ? 'google' : 'hook';
  const short = kind === 'hook' ? ctorName.slice(ctorName.lastIndexOf('.') + 1) : ctorName;
  const out: ClientCall[] = [];
  // a chain of method calls from `start`: `X(...).a(...).b(...)`
  const follow = (start: SyntaxNode): void => {
    for (let cur = start; ; ) {
      const attr = cur.parent;
      const call = attr?.parent;
      if (attr?.type !== 'attribute' || attr.childForFieldName('object')?.id !== cur.id || call?.type !== 'call' || call.childForFieldName('function')?.id !== attr.id) return;
      const method = attr.childForFieldName('attribute')?.text ?? '';
      const talks = kind === 'hook' ? true : kind === 'boto' ? !BOTO_LOCAL.has(method) : GOOGLE_CALLS.test(method);
      if (talks) {
        out.push({ call, fn: `${short}.${method}` });
        return; // the first call that talks is the one to report
      }
      cur = call;
    }
  };
  follow(ctor);
  // `hook = S3Hook(...)`, then `hook.read_key(...)` further down the file
  for (const id of laterUsesOfBinding(ctor, ctx.file.text, ctx.root)) {
    if (id.parent?.type === 'attribute' && id.parent.childForFieldName('object')?.id === id.id) follow(id);
  }
  return out;
}
