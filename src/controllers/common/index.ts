// Helpers every workload controller shares (upstream's pkg/controller): owner references and claiming, expectations,
// pods from templates, pod readiness and deletion order, status writes.
export * from './owner.js';
export * from './ref-manager.js';
export * from './expectations.js';
export * from './pods.js';
export * from './pod-control.js';
export * from './status.js';
export * from './indexes.js';
export * from './superseded.js';
export * from './pod-events.js';
