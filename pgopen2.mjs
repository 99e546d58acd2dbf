import { PGlite } from '@electric-sql/pglite';
const extra = process.argv.slice(3);
const t0 = performance.now();
const db = await PGlite.create({ dataDir: process.argv[2], startParams: [...PGlite.defaultStartParams, ...extra] });
const t1 = performance.now();
const sb = (await db.query('show shared_buffers')).rows[0];
console.log(extra.join(' ').padEnd(40), 'open', (t1 - t0).toFixed(0), 'ms', JSON.stringify(sb));
await db.close();
