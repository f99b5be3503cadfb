// Upstream's framework.Status: a code, human-readable reasons and the plugin that produced it.

export enum Code {
  Success = 0,
  Error = 1,
  Unschedulable = 2,
  UnschedulableAndUnresolvable = 3,
  Wait = 4,
  Skip = 5,
  Pending = 6,
}

const CODE_NAMES: Record<Code, string> = {
  [Code.Success]: 'Success',
  [Code.Error]: 'Error',
  [Code.Unschedulable]: 'Unschedulable',
  [Code.UnschedulableAndUnresolvable]: 'UnschedulableAndUnresolvable',
  [Code.Wait]: 'Wait',
  [Code.Skip]: 'Skip',
  [Code.Pending]: 'Pending',
};

export function codeName(code: Code): string {
  return CODE_NAMES[code];
}

/** The reasons of a status that has none (shared: reasons are never mutated). */
const NO_REASONS: readonly string[] = Object.freeze([]);

export class Status {
  /** The plugin that returned this status (set by the framework, as upstream's SetPlugin). */
  plugin = '';

  constructor(
    readonly code: Code,
    readonly reasons: readonly string[] = NO_REASONS,
    readonly error?: Error,
  ) {}

  static success(): Status {
    return new Status(Code.Success);
  }

  static unschedulable(...reasons: string[]): Status {
    return new Status(Code.Unschedulable, reasons);
  }

  static unresolvable(...reasons: string[]): Status {
    return new Status(Code.UnschedulableAndUnresolvable, reasons);
  }

  /** The pod waits for something outside the scheduler (upstream's Pending): it is rejected as Unschedulable is. */
  static pending(...reasons: string[]): Status {
    return new Status(Code.Pending, reasons);
  }

  static skip(): Status {
    return new Status(Code.Skip);
  }

  /** Upstream's AsStatus: an Error status whose only reason is the error's message. */
  static fromError(err: unknown): Status {
    const error = err instanceof Error ? err : new Error(String(err));
    return new Status(Code.Error, [error.message], error);
  }

  withPlugin(plugin: string): this {
    this.plugin = plugin;
    return this;
  }

  /** Reasons joined as upstream's Message(). */
  message(): string {
    return this.reasons.join(', ');
  }

  isSuccess(): boolean {
    return this.code === Code.Success;
  }

  isSkip(): boolean {
    return this.code === Code.Skip;
  }

  isWait(): boolean {
    return this.code === Code.Wait;
  }

  /** Unschedulable, UnschedulableAndUnresolvable or Pending (upstream's IsRejected): the pod cannot go there, which is not a failure of the plugin. */
  isRejected(): boolean {
    return this.code === Code.Unschedulable || this.code === Code.UnschedulableAndUnresolvable || this.code === Code.Pending;
  }

  /** An Error for a status that is neither success nor rejection (upstream's AsError). */
  asError(): Error | undefined {
    if (this.isSuccess() || this.isSkip() || this.isWait()) return undefined;
    return this.error ?? new Error(this.message());
  }
}

/** A nil status in upstream is success; plugins here may return undefined for the same meaning. */
export type MaybeStatus = Status | undefined;

export const isSuccess = (s: MaybeStatus): boolean => s === undefined || s.isSuccess();
