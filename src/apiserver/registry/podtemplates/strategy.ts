// PodTemplates (upstream ValidatePodTemplate): the template is defaulted and validated like any pod template.
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { Strategy } from '../strategy.js';
import { defaultPodTemplateSpec } from '../defaults/pod.js';
import { validatePodTemplateSpec } from '../validation/pod.js';

export const podTemplateStrategy: Strategy = {
  defaults(obj) {
    defaultPodTemplateSpec(obj.template as PodTemplateSpec | undefined);
  },
  validate(obj) {
    return validatePodTemplateSpec(obj.template, 'template');
  },
};

export { podTemplateStrategy as Strategy };
