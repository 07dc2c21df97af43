// The floor: a bare WebSocket server (ws, the library under socket.io's own transport) that sends
// a run's two events, each serialised once, to every connection after a POST to
// /api/jobs/<name>/trigger. No rooms, no acknowledgements, no socket.io framing.
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import { runEvents, triggeredJob } from './bare-events.mjs';

const http = createServer((request, response) => {
  const job = request.method === 'POST' ? triggeredJob(request.url) : undefined;
  if (job) {
    request.resume();
    const run = runEvents(job);
    broadcast(run.started);
    setImmediate(() => broadcast(run.succeeded));
    response.writeHead(202, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ runId: run.runId, job, status: 'running' }));
    return;
  }
  response.writeHead(request.url === '/health/ready' ? 200 : 404).end();
});
const wss = new WebSocketServer({ server: http });

function broadcast(event) {
  const text = JSON.stringify(event);
  for (const client of wss.clients) client.send(text);
}
http.listen(Number(process.env.PORT), process.env.HOST);
