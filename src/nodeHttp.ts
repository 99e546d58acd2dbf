/**
 * `node:http`, taken without its ES module facade. `import http from 'node:http'` builds a
 * facade that reads every export once, and node:http's `WebSocket`, `CloseEvent` and
 * `MessageEvent` are lazy getters that load undici: in Node 24 that import alone costs
 * ~14 MB of RSS and ~50 ms (`node -e` with the import: 59 MB, 0.12 s; with this: 46 MB,
 * 0.07 s), in every API worker, the supervisor and each CLI command. `getBuiltinModule`
 * hands over the same module object and reads nothing it is not asked for.
 *
 * Import types from 'node:http' as usual (`import type` is erased); take values from here.
 */
const http: typeof import('node:http') = process.getBuiltinModule('node:http');

export default http;
