// The client machinery in one import: REST client, reflector, informers, listers, work queues, rate limiters, clocks.
export * from './clock.js';
export * from './fake-lister-watcher.js';
export * from './informer.js';
export * from './kubeconfig.js';
export * from './rate-limiter.js';
export * from './reflector.js';
export * from './rest.js';
export * from './store.js';
export * from './transport.js';
export * from './in-process.js';
export * from './workqueue.js';
export * from './worker.js';
export * from './leaderelection.js';
export * from './events.js';
export * from './message-port.js';
