// core/v1 Events (upstream legacyValidateEvent for the v1 API, and the event field-label conversions).
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { invalidEach, isDNS1123Subdomain, isQualifiedName } from '../../../machinery/validation.js';
import type { Strategy } from '../strategy.js';
import { asObject, asString } from '../group-validation.js';

const REPORTING_INSTANCE_LIMIT = 128;
const ACTION_LIMIT = 128;
const REASON_LIMIT = 128;
const NOTE_LIMIT = 1024;

export const eventStrategy: Strategy = {
  validate(obj) {
    const errs: FieldError[] = [];
    const involved = asObject(obj.involvedObject) ?? {};
    const involvedNamespace = asString(involved.namespace);
    const namespace = obj.metadata.namespace ?? '';
    const mismatch = (): FieldError => fieldErr.invalid('involvedObject.namespace', involvedNamespace, 'does not match event.namespace');
    if (!asString(obj.eventTime)) {
      // Old-style events: the namespaces must agree ("default" stands in for cluster-scoped objects).
      if (!involvedNamespace) {
        if (namespace !== '' && namespace !== 'default') errs.push(mismatch());
      } else if (namespace !== involvedNamespace) errs.push(mismatch());
    } else {
      if (!involvedNamespace && namespace !== 'default' && namespace !== 'kube-system') errs.push(mismatch());
      const controller = asString(obj.reportingComponent);
      if (!controller) errs.push(fieldErr.required('reportingComponent', ''));
      errs.push(...invalidEach('reportingComponent', controller, isQualifiedName(controller)));
      const instance = asString(obj.reportingInstance);
      if (!instance) errs.push(fieldErr.required('reportingInstance', ''));
      if (instance.length > REPORTING_INSTANCE_LIMIT) errs.push(fieldErr.invalid('reportingInstance', '', `can have at most ${REPORTING_INSTANCE_LIMIT} characters`));
      const action = asString(obj.action);
      if (!action) errs.push(fieldErr.required('action', ''));
      if (action.length > ACTION_LIMIT) errs.push(fieldErr.invalid('action', '', `can have at most ${ACTION_LIMIT} characters`));
      const reason = asString(obj.reason);
      if (!reason) errs.push(fieldErr.required('reason', ''));
      if (reason.length > REASON_LIMIT) errs.push(fieldErr.invalid('reason', '', `can have at most ${REASON_LIMIT} characters`));
      if (asString(obj.message).length > NOTE_LIMIT) errs.push(fieldErr.invalid('message', '', `can have at most ${NOTE_LIMIT} characters`));
    }
    errs.push(...invalidEach('namespace', namespace, isDNS1123Subdomain(namespace)));
    return errs;
  },
  selectableFields(obj) {
    const involved = asObject(obj.involvedObject) ?? {};
    return {
      'involvedObject.kind': asString(involved.kind),
      'involvedObject.namespace': asString(involved.namespace),
      'involvedObject.name': asString(involved.name),
      'involvedObject.uid': asString(involved.uid),
      'involvedObject.apiVersion': asString(involved.apiVersion),
      'involvedObject.resourceVersion': asString(involved.resourceVersion),
      'involvedObject.fieldPath': asString(involved.fieldPath),
      reason: asString(obj.reason),
      reportingComponent: asString(obj.reportingComponent),
      source: asString(asObject(obj.source)?.component),
      type: asString(obj.type),
    };
  },
};

export { eventStrategy as Strategy };
