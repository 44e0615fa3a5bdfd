// A stand-in app: creates a writer, writes, then closes it (or, in 'idle' mode, only
// flushes and leaves it open) and returns without calling process.exit.
import { BatchWriter } from '@scope/batchwriter-threads';

const [uri, db, mode] = process.argv.slice(2);
const writer = await BatchWriter.create({ uri, db, collection: `child_${mode}` });
for (let i = 0; i < 1000; i++) await writer.write({ i });
if (mode === 'close') await writer.close();
else await writer.flush();
console.log('done');
