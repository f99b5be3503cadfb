import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseApiServerArgs } from '../args.js';
import { admissionPluginEnabled } from './plugins.js';

test('--kube-apiserver-arg disable/enable-admission-plugins: comma lists, repeated flags add up', () => {
  const args = parseApiServerArgs(['disable-admission-plugins=ServiceAccount,TaintNodesByCondition', '--disable-admission-plugins=Priority', 'enable-admission-plugins=NodeRestriction']);
  assert.deepEqual(args.admissionPlugins, { disable: ['ServiceAccount', 'TaintNodesByCondition', 'Priority'], enable: ['NodeRestriction'] });
  const flags = args.admissionPlugins!;
  assert.equal(admissionPluginEnabled(flags, 'ServiceAccount'), false);
  assert.equal(admissionPluginEnabled(flags, 'Priority'), false);
  assert.equal(admissionPluginEnabled(flags, 'NamespaceLifecycle'), true);
  assert.equal(admissionPluginEnabled(flags, 'NodeRestriction'), true);
  // skiff's own steps that are no upstream plugin always run.
  assert.equal(admissionPluginEnabled(flags, 'ServiceAllocator'), true);
  assert.equal(admissionPluginEnabled({}, 'ServiceAccount'), true);
});

test('unknown plugin names are refused with upstream\'s message; so are overlaps and plugins skiff lacks', () => {
  assert.throws(() => parseApiServerArgs(['disable-admission-plugins=ServiceAcount']), /disable-admission-plugins plugin "ServiceAcount" is unknown/);
  assert.throws(() => parseApiServerArgs(['enable-admission-plugins=Nope']), /enable-admission-plugins plugin "Nope" is unknown/);
  assert.throws(
    () => parseApiServerArgs(['enable-admission-plugins=Priority,ServiceAccount', 'disable-admission-plugins=ServiceAccount,Priority']),
    /\[Priority ServiceAccount\] in enable-admission-plugins and disable-admission-plugins overlapped/,
  );
  assert.throws(() => parseApiServerArgs(['enable-admission-plugins=AlwaysPullImages']), /"AlwaysPullImages" is not implemented by skiff/);
  // Disabling an upstream plugin skiff does not run is accepted (scheduler_perf disables TaintNodesByCondition).
  assert.doesNotThrow(() => parseApiServerArgs(['disable-admission-plugins=TaintNodesByCondition']));
});
