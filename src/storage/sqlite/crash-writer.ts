// Child process for the crash test: creates keys with several writers at once on a SQLite store and prints each
// key once its create is acknowledged, until it is killed.
import { openSqliteStorage } from './sqlite.js';

const path = process.argv[2];
if (!path) {
  console.error('usage: crash-writer.js DB_PATH');
  process.exit(2);
}
const storage = openSqliteStorage({ path });
const writers = 8;
let next = 0;
async function writer(): Promise<void> {
  for (;;) {
    const key = `/crash/${String(next++).padStart(8, '0')}`;
    await storage.create(key, JSON.stringify({ key, padding: 'x'.repeat(200) }));
    process.stdout.write(`${key}\n`);
  }
}
await Promise.all(Array.from({ length: writers }, writer));
