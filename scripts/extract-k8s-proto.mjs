#!/usr/bin/env node
// Writes src/api/proto/k8s.json: the protobuf schema of the stable built-in API groups (plus meta/v1, runtime,
// intstr and resource) as protobufjs JSON. Go programs built with gogo/protobuf carry each generated.proto as a
// gzipped FileDescriptorProto; this reads them out of a kubectl binary, so the field numbers are exactly those
// kubectl encodes with. Go writes every non-pointer field to the wire, zero or not, so the JSON form of a zero scalar
// depends on the Go field: a pointer (or a field without omitempty) keeps it, the rest leave it out. That is read from
// the same binary's Go type data (reflect's struct descriptions) and marked on the scalar fields that keep a zero as
// the option keep_zero. Run by hand when moving to a newer Kubernetes version:
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
const SCALARS = new Set(['string', 'bool', 'bytes', 'int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'fixed32', 'fixed64', 'double', 'float']);
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
markKeepZero(json, readGoStructs(buf));
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

/**
 * Marks the scalar fields whose zero value survives Go's JSON encoding: pointers (set means present) and fields
 * without omitempty. Fields are matched to Go struct fields by their protobuf tag's field number.
 */
function markKeepZero(ns, goStructs, path = []) {
  for (const [name, def] of Object.entries(ns.nested ?? {})) {
    const here = [...path, name];
    if (def.fields) {
      const goFields = goStructs.get(`k8s.io/${here.slice(2, -1).join('/')}.${name}`);
      for (const field of Object.values(def.fields)) {
        if (field.keyType || field.rule === 'repeated' || !SCALARS.has(field.type)) continue;
        // Types with hand-written marshalling (Quantity, Time, IntOrString, ...) have no tagged fields.
        if (goFields?.length === 0) break;
        if (!goFields) throw new Error(`no Go struct for ${here.join('.')}`);
        const go = goFields.find((f) => f.protoId === field.id);
        if (!go) throw new Error(`no Go field for ${here.join('.')} field ${field.id}`);
        if (go.pointer || !go.omitEmpty) field.options = { ...field.options, keep_zero: true };
      }
    }
    markKeepZero(def, goStructs, here);
  }
}

/**
 * Named struct types of a Go ELF binary (amd64, Go >= 1.21 type layout) as "pkgpath.Name" -> fields with their
 * protobuf field number, pointer-ness and omitempty. Types are found from the .typelink table (offsets from the start
 * of .rodata, where the linker puts the type data) and everything they reach.
 */
function readGoStructs(buf) {
  const shoff = Number(buf.readBigUInt64LE(0x28));
  const sections = [];
  for (let i = 0; i < buf.readUInt16LE(0x3c); i++) {
    const o = shoff + i * buf.readUInt16LE(0x3a);
    sections.push({ nameOff: buf.readUInt32LE(o), addr: Number(buf.readBigUInt64LE(o + 0x10)), off: Number(buf.readBigUInt64LE(o + 0x18)), size: Number(buf.readBigUInt64LE(o + 0x20)) });
  }
  const names = sections[buf.readUInt16LE(0x3e)];
  const section = (wanted) => sections.find((s) => buf.toString('latin1', names.off + s.nameOff, buf.indexOf(0, names.off + s.nameOff)) === wanted);
  const typesBase = section('.rodata').addr;
  const typelink = section('.typelink');
  const fileOffset = (va) => {
    const s = sections.find((x) => x.addr && va >= x.addr && va < x.addr + x.size);
    if (!s) throw new Error(`address ${va.toString(16)} is in no section`);
    return s.off + (va - s.addr);
  };
  const pointerAt = (va) => Number(buf.readBigUInt64LE(fileOffset(va)));
  const uvarint = (p) => {
    let x = 0;
    for (let shift = 0; ; shift += 7) {
      const b = buf[p++];
      x += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return [x, p];
    }
  };
  // reflect's name encoding: a flags byte (2 = has tag), varint length, bytes, then the tag the same way.
  const readName = (va) => {
    const p = fileOffset(va);
    const [length, start] = uvarint(p + 1);
    const name = buf.toString('utf8', start, start + length);
    if (!(buf[p] & 2)) return { name, tag: '' };
    const [tagLength, tagStart] = uvarint(start + length);
    return { name, tag: buf.toString('utf8', tagStart, tagStart + tagLength) };
  };
  const KIND_ARRAY = 17, KIND_MAP = 21, KIND_PTR = 22, KIND_SLICE = 23, KIND_STRUCT = 25;
  const TFLAG_UNCOMMON = 1, TFLAG_EXTRA_STAR = 2, TFLAG_NAMED = 4;
  const structs = new Map();
  const seen = new Set();
  const visit = (va) => {
    if (seen.has(va)) return;
    seen.add(va);
    const p = fileOffset(va);
    const tflag = buf[p + 20];
    const kind = buf[p + 23] & 0x1f;
    if (kind === KIND_PTR || kind === KIND_SLICE || kind === KIND_ARRAY) return visit(pointerAt(va + 48));
    if (kind === KIND_MAP) return (visit(pointerAt(va + 48)), visit(pointerAt(va + 56)));
    if (kind !== KIND_STRUCT) return;
    const fields = [];
    const fieldsAt = pointerAt(va + 56);
    for (let i = 0; i < pointerAt(va + 64); i++) {
      const { tag } = readName(pointerAt(fieldsAt + i * 24));
      const fieldType = pointerAt(fieldsAt + i * 24 + 8);
      const protoId = /protobuf:"[a-z0-9]+,(\d+),/.exec(tag)?.[1];
      const json = /json:"([^"]*)"/.exec(tag)?.[1] ?? '';
      if (protoId) fields.push({ protoId: Number(protoId), pointer: (buf[fileOffset(fieldType) + 23] & 0x1f) === KIND_PTR, omitEmpty: json.split(',').includes('omitempty') });
      visit(fieldType);
    }
    if (!(tflag & TFLAG_NAMED) || !(tflag & TFLAG_UNCOMMON)) return;
    let name = readName(typesBase + buf.readInt32LE(p + 40)).name;
    if (tflag & TFLAG_EXTRA_STAR) name = name.slice(1);
    const pkgPath = readName(typesBase + buf.readInt32LE(fileOffset(va + 80))).name;
    structs.set(`${pkgPath}.${name.slice(name.lastIndexOf('.') + 1)}`, fields);
  };
  for (let i = 0; i < typelink.size; i += 4) visit(typesBase + buf.readInt32LE(typelink.off + i));
  return structs;
}
