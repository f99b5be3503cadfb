#!/usr/bin/env node
// Writes src/api/proto/k8s.json: the protobuf schema of the stable built-in API groups (plus meta/v1, runtime,
// intstr and resource) as protobufjs JSON. Go programs built with gogo/protobuf carry each generated.proto as a
// gzipped FileDescriptorProto; this reads them out of a kubectl binary, so the field numbers are exactly those
// kubectl encodes with. Run by hand when moving to a newer Kubernetes version:
//   node scripts/extract-k8s-proto.mjs /usr/lib/google-cloud-sdk/bin/kubectl.1.32
import { readFileSync, writeFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor/index.js';

const [binary, out = new URL('../src/api/proto/k8s.json', import.meta.url).pathname] = process.argv.slice(2);
if (!binary) {
  console.error('usage: extract-k8s-proto.mjs KUBECTL_BINARY [OUT.json]');
  process.exit(2);
}
const WANTED = /^k8s\.io\/(api\/[a-z0-9]+\/v[0-9]+\/|apimachinery\/pkg\/(apis\/meta\/v1\/|runtime\/|util\/intstr\/|api\/resource\/))generated\.proto$/;
const buf = readFileSync(binary);
const files = [];
for (let i = 0; i + 10 < buf.length; i++) {
  // A gzip member header (deflate, no flags); the deflate stream starts 10 bytes in.
  if (buf[i] !== 0x1f || buf[i + 1] !== 0x8b || buf[i + 2] !== 0x08 || buf[i + 3] !== 0) continue;
  let fd;
  try {
    fd = descriptor.FileDescriptorProto.decode(inflateRawSync(buf.subarray(i + 10, i + 1_000_000), { finishFlush: 2 }));
  } catch {
    continue;
  }
  if (!WANTED.test(fd.name ?? '') || files.some((f) => f.package === fd.package)) continue;
  files.push(fd);
}
const root = protobuf.Root.fromDescriptor(descriptor.FileDescriptorSet.create({ file: files }));
root.resolveAll();
const json = root.toJSON();
tidy(json);
// Check that the result loads and resolves on its own.
protobuf.Root.fromJSON(json).resolveAll();
writeFileSync(out, JSON.stringify(json) + '\n');
console.log(`${files.length} files -> ${out}`);

/**
 * fromDescriptor leaves map fields as repeated "<Name>Entry" messages and copies the map_entry option onto their
 * parents; turn them back into protobufjs map fields ({keyType, type}) and drop the stray options.
 */
function tidy(ns) {
  for (const def of Object.values(ns.nested ?? {})) {
    if (def.fields) {
      if (def.options?.map_entry) delete def.options.map_entry;
      if (def.options && Object.keys(def.options).length === 0) delete def.options;
      for (const [name, field] of Object.entries(def.fields)) {
        const entryName = field.type.split('.').pop();
        const entry = def.nested?.[entryName];
        if (field.rule !== 'repeated' || !entry?.options?.map_entry) continue;
        def.fields[name] = { keyType: entry.fields.key.type, type: entry.fields.value.type, id: field.id };
        delete def.nested[entryName];
      }
      if (def.nested && Object.keys(def.nested).length === 0) delete def.nested;
    }
    tidy(def);
  }
}
