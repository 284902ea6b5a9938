/**
 * Shared helpers of the unsafe-deserialization family (DG4xx). The rules subscribe to the last names of the
 * deserializers (`load`, `loads`…); the engine resolves `from pickle import loads as l; l(x)` to `pickle.loads`.
 */

export const PARSE_TIME_NOTE = ' — at parse time, in the dag-processor';
