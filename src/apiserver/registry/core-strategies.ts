// The strategies of core/v1, apps/v1 and batch/v1, keyed for the registry by strategyKey(group, resource).
import { strategyKey, type Strategy } from './strategy.js';
import { bindingStrategy } from './bindings/strategy.js';
import { configMapStrategy } from './configmaps/strategy.js';
import { controllerRevisionStrategy } from './controllerrevisions/strategy.js';
import { cronJobStrategy } from './cronjobs/strategy.js';
import { daemonSetStrategy } from './daemonsets/strategy.js';
import { deploymentStrategy } from './deployments/strategy.js';
import { endpointsStrategy } from './endpoints/strategy.js';
import { eventStrategy } from './events/strategy.js';
import { jobStrategy } from './jobs/strategy.js';
import { limitRangeStrategy } from './limitranges/strategy.js';
import { namespaceStrategy } from './namespaces/strategy.js';
import { nodeStrategy } from './nodes/strategy.js';
import { persistentVolumeClaimStrategy } from './persistentvolumeclaims/strategy.js';
import { persistentVolumeStrategy } from './persistentvolumes/strategy.js';
import { podStrategy } from './pods/strategy.js';
import { podTemplateStrategy } from './podtemplates/strategy.js';
import { replicaSetStrategy } from './replicasets/strategy.js';
import { replicationControllerStrategy } from './replicationcontrollers/strategy.js';
import { resourceQuotaStrategy } from './resourcequotas/strategy.js';
import { secretStrategy } from './secrets/strategy.js';
import { serviceAccountStrategy } from './serviceaccounts/strategy.js';
import { serviceStrategy } from './services/strategy.js';
import { statefulSetStrategy } from './statefulsets/strategy.js';

const entries: [string, string, Strategy][] = [
  ['', 'bindings', bindingStrategy],
  ['', 'configmaps', configMapStrategy],
  ['', 'endpoints', endpointsStrategy],
  ['', 'events', eventStrategy],
  ['', 'limitranges', limitRangeStrategy],
  ['', 'namespaces', namespaceStrategy],
  ['', 'nodes', nodeStrategy],
  ['', 'persistentvolumeclaims', persistentVolumeClaimStrategy],
  ['', 'persistentvolumes', persistentVolumeStrategy],
  ['', 'pods', podStrategy],
  ['', 'podtemplates', podTemplateStrategy],
  ['', 'replicationcontrollers', replicationControllerStrategy],
  ['', 'resourcequotas', resourceQuotaStrategy],
  ['', 'secrets', secretStrategy],
  ['', 'serviceaccounts', serviceAccountStrategy],
  ['', 'services', serviceStrategy],
  ['apps', 'controllerrevisions', controllerRevisionStrategy],
  ['apps', 'daemonsets', daemonSetStrategy],
  ['apps', 'deployments', deploymentStrategy],
  ['apps', 'replicasets', replicaSetStrategy],
  ['apps', 'statefulsets', statefulSetStrategy],
  ['batch', 'cronjobs', cronJobStrategy],
  ['batch', 'jobs', jobStrategy],
];

export const coreStrategies: Map<string, Strategy> = new Map(entries.map(([group, resource, s]) => [strategyKey(group, resource), s]));
