// Strategies for the built-in groups other than core, apps and batch, keyed by strategyKey(group, resource).
import { strategyKey, type Strategy } from './strategy.js';
import { Strategy as horizontalPodAutoscalers } from './horizontalpodautoscalers/strategy.js';
import { Strategy as ingresses } from './ingresses/strategy.js';
import { Strategy as ingressClasses } from './ingressclasses/strategy.js';
import { Strategy as networkPolicies } from './networkpolicies/strategy.js';
import { Strategy as podDisruptionBudgets } from './poddisruptionbudgets/strategy.js';
import { Strategy as roles } from './roles/strategy.js';
import { Strategy as roleBindings } from './rolebindings/strategy.js';
import { Strategy as clusterRoles } from './clusterroles/strategy.js';
import { Strategy as clusterRoleBindings } from './clusterrolebindings/strategy.js';
import { Strategy as storageClasses } from './storageclasses/strategy.js';
import { Strategy as csiDrivers } from './csidrivers/strategy.js';
import { Strategy as csiNodes } from './csinodes/strategy.js';
import { Strategy as csiStorageCapacities } from './csistoragecapacities/strategy.js';
import { Strategy as volumeAttachments } from './volumeattachments/strategy.js';
import { Strategy as leases } from './leases/strategy.js';
import { Strategy as endpointSlices } from './endpointslices/strategy.js';
import { Strategy as events } from './events.k8s.io-events/strategy.js';
import { Strategy as priorityClasses } from './priorityclasses/strategy.js';
import { Strategy as runtimeClasses } from './runtimeclasses/strategy.js';
import { Strategy as customResourceDefinitions } from './customresourcedefinitions/strategy.js';
import { Strategy as mutatingWebhookConfigurations } from './mutatingwebhookconfigurations/strategy.js';
import { Strategy as validatingWebhookConfigurations } from './validatingwebhookconfigurations/strategy.js';
import { Strategy as validatingAdmissionPolicies } from './validatingadmissionpolicies/strategy.js';
import { Strategy as validatingAdmissionPolicyBindings } from './validatingadmissionpolicybindings/strategy.js';
import { Strategy as certificateSigningRequests } from './certificatesigningrequests/strategy.js';

const entries: [string, string, Strategy][] = [
  ['autoscaling', 'horizontalpodautoscalers', horizontalPodAutoscalers],
  ['networking.k8s.io', 'ingresses', ingresses],
  ['networking.k8s.io', 'ingressclasses', ingressClasses],
  ['networking.k8s.io', 'networkpolicies', networkPolicies],
  ['policy', 'poddisruptionbudgets', podDisruptionBudgets],
  ['rbac.authorization.k8s.io', 'roles', roles],
  ['rbac.authorization.k8s.io', 'rolebindings', roleBindings],
  ['rbac.authorization.k8s.io', 'clusterroles', clusterRoles],
  ['rbac.authorization.k8s.io', 'clusterrolebindings', clusterRoleBindings],
  ['storage.k8s.io', 'storageclasses', storageClasses],
  ['storage.k8s.io', 'csidrivers', csiDrivers],
  ['storage.k8s.io', 'csinodes', csiNodes],
  ['storage.k8s.io', 'csistoragecapacities', csiStorageCapacities],
  ['storage.k8s.io', 'volumeattachments', volumeAttachments],
  ['coordination.k8s.io', 'leases', leases],
  ['discovery.k8s.io', 'endpointslices', endpointSlices],
  ['events.k8s.io', 'events', events],
  ['scheduling.k8s.io', 'priorityclasses', priorityClasses],
  ['node.k8s.io', 'runtimeclasses', runtimeClasses],
  ['apiextensions.k8s.io', 'customresourcedefinitions', customResourceDefinitions],
  ['admissionregistration.k8s.io', 'mutatingwebhookconfigurations', mutatingWebhookConfigurations],
  ['admissionregistration.k8s.io', 'validatingwebhookconfigurations', validatingWebhookConfigurations],
  ['admissionregistration.k8s.io', 'validatingadmissionpolicies', validatingAdmissionPolicies],
  ['admissionregistration.k8s.io', 'validatingadmissionpolicybindings', validatingAdmissionPolicyBindings],
  ['certificates.k8s.io', 'certificatesigningrequests', certificateSigningRequests],
];

export const groupStrategies: Map<string, Strategy> = new Map(entries.map(([group, resource, s]) => [strategyKey(group, resource), s]));
