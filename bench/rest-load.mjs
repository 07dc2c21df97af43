// One autocannon run in a process of its own: `node bench/rest-load.mjs <url> <seconds> <connections>`.
// Prints `{ requestsPerSecond, p50, p99, non2xx, errors }` as JSON on stdout.
import autocannon from 'autocannon';

const [url, seconds, connections] = process.argv.slice(2);
const result = await autocannon({ url, duration: Number(seconds), connections: Number(connections) });
console.log(
  JSON.stringify({
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  }),
);
