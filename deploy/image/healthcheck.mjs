#!/usr/bin/env node
// HEALTHCHECK of the spacetime-sentinel image: exit 0 when GET /readyz on the daemon's port
// answers 200 within 4 s, else 1 with one line saying why. The port is SENTINEL_LISTEN's (the
// image sets 0.0.0.0:9464); the daemon is asked on loopback. Plain Node: the image has no curl.
import { get } from 'node:http';
import process from 'node:process';

const listen = process.env.SENTINEL_LISTEN || '127.0.0.1:9464';
const url = `http://127.0.0.1:${listen.slice(listen.lastIndexOf(':') + 1)}/readyz`;

const request = get(url, { timeout: 4000 }, (res) => {
  res.resume();
  if (res.statusCode !== 200) process.stderr.write(`sentinel-healthcheck: ${url} answered ${res.statusCode}\n`);
  process.exit(res.statusCode === 200 ? 0 : 1);
});
request.on('timeout', () => request.destroy(new Error('no answer within 4 s')));
request.on('error', (err) => {
  process.stderr.write(`sentinel-healthcheck: ${url}: ${err.code ?? err.message}\n`);
  process.exit(1);
});
