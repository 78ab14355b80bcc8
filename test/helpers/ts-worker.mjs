// Bootstrap for worker_threads running a TypeScript file: registers tsx in the worker, then imports it.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.script);
