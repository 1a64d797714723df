/** The service configurations the diagnose tests write tests and patches for. */
import { DEFAULT_LIMITS, type ServiceConfig } from '../../src/config/service.ts';

export const py: ServiceConfig = {
  service: 'svc',
  language: 'python',
  image: 'suture-sandbox:bookworm',
  install: '',
  test: 'python3 -m pytest -q',
  start: 'python3 app.py',
  port: 8080,
  health: '/healthz',
  limits: DEFAULT_LIMITS,
};

export const node: ServiceConfig = { ...py, language: 'node', test: 'node --test', start: 'node server.js' };
