// Converters for resources served in a version other than the stored one, keyed "<group>/<version>/<resource>" of
// the served version.
import type { KubeObject } from '../../api/object.js';
import type { Converter } from './registry.js';
import { hpaV1ToV2, hpaV2ToV1 } from './horizontalpodautoscalers/convert.js';
import { coreEventToEventsV1, eventsV1ToCoreEvent } from './events.k8s.io-events/convert.js';

type Conversion = (obj: never) => unknown;

function converter(toStored: Conversion, fromStored: Conversion): Converter {
  return {
    toStored: (obj) => toStored(obj as never) as KubeObject,
    fromStored: (obj) => fromStored(obj as never) as KubeObject,
  };
}

export const builtinConverters: ReadonlyMap<string, Converter> = new Map([
  ['autoscaling/v1/horizontalpodautoscalers', converter(hpaV1ToV2, hpaV2ToV1)],
  ['events.k8s.io/v1/events', converter(eventsV1ToCoreEvent, coreEventToEventsV1)],
]);
