// Baseline: what a user would write instead of jobpulse for live updates. A bare socket.io server
// on node:http: `subscribe` joins the topics' rooms (acknowledged), and a POST to
// /api/jobs/<name>/trigger broadcasts a run's job.started and job.succeeded events to room `jobs`,
// the same payloads jobpulse sends, with no database and no ordering.
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { runEvents, triggeredJob } from './bare-events.mjs';

const http = createServer((request, response) => {
  const job = request.method === 'POST' ? triggeredJob(request.url) : undefined;
  if (job) {
    request.resume();
    const run = runEvents(job);
    io.to('jobs').emit('event', run.started);
    // jobpulse publishes job.succeeded once the run is recorded: a later turn of the loop.
    setImmediate(() => io.to('jobs').emit('event', run.succeeded));
    response.writeHead(202, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ runId: run.runId, job, status: 'running' }));
    return;
  }
  response.writeHead(request.url === '/health/ready' ? 200 : 404).end();
});
const io = new Server(http, { cors: { origin: '*' } });
io.on('connection', (socket) => {
  socket.on('subscribe', ({ topics }, ack) => {
    void socket.join(topics);
    ack({ ok: true, topics });
  });
});
http.listen(Number(process.env.PORT), process.env.HOST);
