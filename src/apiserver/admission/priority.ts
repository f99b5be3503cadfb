// Upstream's Priority admission: a new pod's spec.priorityClassName is resolved to spec.priority and
// spec.preemptionPolicy (the globalDefault class, or priority 0, when it names none); a class that does not exist, or a
// priority/preemptionPolicy in the pod that differs from the class's, is refused.
import type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
import { ApiError } from '../../machinery/errors.js';
import { SYSTEM_PRIORITY_CLASSES } from '../registry/priorityclasses/strategy.js';
import type { AdmissionAttributes, MutatingAdmission } from './types.js';

const DEFAULT_PREEMPTION_POLICY = 'PreemptLowerPriority';

interface PodSpecLike {
  priorityClassName?: string;
  priority?: number;
  preemptionPolicy?: string;
}

export class PriorityAdmission implements MutatingAdmission {
  readonly name = 'Priority';

  /** `classes` lists the stored PriorityClasses. */
  constructor(private readonly classes: () => Promise<readonly PriorityClass[]>) {}

  private async find(name: string): Promise<PriorityClass | undefined> {
    const stored = (await this.classes()).find((c) => c.metadata?.name === name);
    if (stored) return stored;
    // The system classes count as present even before anything stored them.
    const system = SYSTEM_PRIORITY_CLASSES.find((c) => c.name === name);
    return system ? { metadata: { name: system.name }, value: system.value, globalDefault: system.globalDefault } : undefined;
  }

  /** The globalDefault class with the lowest value, as upstream's getDefaultPriorityClass. */
  private async globalDefault(): Promise<PriorityClass | undefined> {
    let best: PriorityClass | undefined;
    for (const c of await this.classes()) if (c.globalDefault && (!best || c.value < best.value)) best = c;
    return best;
  }

  async admit(a: AdmissionAttributes): Promise<void> {
    if (a.group !== '' || a.resource !== 'pods' || a.subresource !== '' || a.operation !== 'CREATE' || !a.object) return;
    const spec = (a.object.spec ?? {}) as PodSpecLike;
    let priority = 0;
    let preemptionPolicy: string = DEFAULT_PREEMPTION_POLICY;
    if (!spec.priorityClassName) {
      const def = await this.globalDefault();
      if (def) {
        spec.priorityClassName = def.metadata?.name;
        priority = def.value;
        preemptionPolicy = def.preemptionPolicy ?? DEFAULT_PREEMPTION_POLICY;
      }
    } else {
      const pc = await this.find(spec.priorityClassName);
      if (!pc) throw ApiError.forbidden('', 'pods', a.name, `no PriorityClass with name ${spec.priorityClassName} was found`);
      priority = pc.value;
      preemptionPolicy = pc.preemptionPolicy ?? DEFAULT_PREEMPTION_POLICY;
    }
    if (spec.priority != null && spec.priority !== priority) {
      throw ApiError.forbidden(
        '',
        'pods',
        a.name,
        `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name`,
      );
    }
    if (spec.preemptionPolicy != null && spec.preemptionPolicy !== preemptionPolicy) {
      throw ApiError.forbidden(
        '',
        'pods',
        a.name,
        `the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; priority admission controller computed ${preemptionPolicy} from the given PriorityClass name`,
      );
    }
    spec.priority = priority;
    spec.preemptionPolicy = preemptionPolicy;
    a.object.spec = spec as Record<string, unknown>;
  }
}
