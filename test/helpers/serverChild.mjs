// A stand-in test process: starts a server, reports its pid, then ends as told
// (returns without stopping it, throws, or waits to be killed with SIGKILL).
import { startServer } from '@scope/testkit';

const server = await startServer({ own: true });
console.log(`server-pid ${server.pid}`);
const ending = process.argv[2];
if (ending === 'throws') throw new Error('test process failed on purpose');
if (ending === 'sigkill') setInterval(() => {}, 1000);
