import { PGlite } from '@electric-sql/pglite';
const t0 = performance.now();
const db = await PGlite.create({ dataDir: process.argv[2] });
const t1 = performance.now();
await db.query('select 1');
console.log('open', (t1 - t0).toFixed(0), 'ms; first query', (performance.now() - t1).toFixed(0), 'ms');
const t2 = performance.now(); await db.close(); console.log('close', (performance.now() - t2).toFixed(0));
