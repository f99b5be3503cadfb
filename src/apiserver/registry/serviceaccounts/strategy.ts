// ServiceAccounts: upstream validates only ObjectMeta (done by the store).
import type { Strategy } from '../strategy.js';

export const serviceAccountStrategy: Strategy = {
  validate: () => [],
};

export { serviceAccountStrategy as Strategy };
