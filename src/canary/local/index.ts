/** The local rollout backend: rehearse a Rollout manifest with containers, a weighted router and Prometheus. */
export { buildDemoServiceImage, DEFAULT_BASE_IMAGE, type DemoImageOptions } from './demo-image.ts';
export {
  type LocalRollout,
  type LocalRolloutOptions,
  type LocalRolloutResult,
  type RolloutEvent,
  runLocalRollout,
  type ServiceVersion,
  startLocalRollout,
} from './rollout.ts';
export { type Backend, type Router, startRouter } from './router.ts';
export { findRolloutPlan, parseDuration, parseRolloutPlan, type RolloutPlan, type RolloutStep } from './steps.ts';
export { generateTraffic, type Traffic, type TrafficStats } from './traffic.ts';
