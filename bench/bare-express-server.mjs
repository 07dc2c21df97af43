// The REST floor: a bare Express application (the version Nest's platform uses) answering the JSON
// jobpulse answered, read from a file once.
import express from 'express';
import { restFixture } from './bare-rest.mjs';

const app = express();
app.get('/api/jobs', (_request, response) => void response.json(restFixture.jobs));
app.get('/api/jobs/:name/runs', (_request, response) => void response.json(restFixture.runs));
app.get('/health/ready', (_request, response) => void response.json({ status: 'ok' }));
app.listen(Number(process.env.PORT), process.env.HOST);
