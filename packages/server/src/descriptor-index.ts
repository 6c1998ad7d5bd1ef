/**
 * The compiler's own FileDescriptorSet, indexed for server reflection: each
 * file's original bytes by file name and by every symbol it declares.
 * Serving the original bytes keeps what protoc wrote (proto3 optional,
 * map entries on the right messages), which rebuilt descriptors lose.
 */
import { fromBinary } from '@bufbuild/protobuf';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { FileDescriptorProtoSchema, type DescriptorProto, type EnumDescriptorProto } from '@bufbuild/protobuf/wkt';

interface IndexedFile {
  name: string;
  bytes: Uint8Array;
  dependencies: string[];
}

export class DescriptorIndex {
  readonly #files = new Map<string, IndexedFile>();
  readonly #fileOfSymbol = new Map<string, string>();
  readonly #messages = new Set<string>();

  /** `setBytes`: a serialized google.protobuf.FileDescriptorSet. */
  constructor(setBytes: Uint8Array) {
    for (const bytes of fileDescriptorBytes(setBytes)) {
      const file = fromBinary(FileDescriptorProtoSchema, bytes);
      this.#files.set(file.name, { name: file.name, bytes, dependencies: file.dependency });
      const scope = file.package === '' ? '' : `${file.package}.`;
      for (const message of file.messageType) this.#addMessage(file.name, scope, message);
      for (const e of file.enumType) this.#addEnum(file.name, scope, e);
      for (const extension of file.extension) this.#fileOfSymbol.set(scope + extension.name, file.name);
      for (const service of file.service) {
        this.#fileOfSymbol.set(scope + service.name, file.name);
        for (const method of service.method) this.#fileOfSymbol.set(`${scope}${service.name}.${method.name}`, file.name);
      }
    }
  }

  /** The name of the file declaring `symbol` (a fully-qualified name without a leading dot). */
  fileOfSymbol(symbol: string): string | undefined {
    return this.#fileOfSymbol.get(symbol.replace(/^\./, ''));
  }

  hasFile(name: string): boolean {
    return this.#files.has(name);
  }

  isMessage(name: string): boolean {
    return this.#messages.has(name.replace(/^\./, ''));
  }

  /**
   * The file's bytes followed by those of its transitive dependencies, each
   * once. Dependencies in `alreadySent` are left out (a client keeps what a
   * stream gave it); the file asked for is always included. Adds what it
   * returns to `alreadySent`.
   */
  fileWithDependencies(name: string, alreadySent: Set<string>): Uint8Array[] {
    const out: Uint8Array[] = [];
    const queue = [name];
    const seen = new Set<string>();
    for (let fileName = queue.shift(); fileName !== undefined; fileName = queue.shift()) {
      const file = this.#files.get(fileName);
      if (file === undefined || seen.has(fileName)) continue;
      seen.add(fileName);
      if (out.length === 0 || !alreadySent.has(fileName)) {
        alreadySent.add(fileName);
        out.push(file.bytes);
      }
      queue.push(...file.dependencies);
    }
    return out;
  }

  #addMessage(fileName: string, scope: string, message: DescriptorProto): void {
    const fullName = scope + message.name;
    this.#fileOfSymbol.set(fullName, fileName);
    this.#messages.add(fullName);
    for (const field of message.field) this.#fileOfSymbol.set(`${fullName}.${field.name}`, fileName);
    for (const oneof of message.oneofDecl) this.#fileOfSymbol.set(`${fullName}.${oneof.name}`, fileName);
    for (const nested of message.nestedType) this.#addMessage(fileName, `${fullName}.`, nested);
    for (const e of message.enumType) this.#addEnum(fileName, `${fullName}.`, e);
  }

  #addEnum(fileName: string, scope: string, e: EnumDescriptorProto): void {
    this.#fileOfSymbol.set(scope + e.name, fileName);
    // Enum values are scoped like siblings of their enum, as in C++.
    for (const value of e.value) this.#fileOfSymbol.set(scope + value.name, fileName);
  }
}

/** The raw `file` entries (field 1) of a FileDescriptorSet, not re-encoded. */
function fileDescriptorBytes(setBytes: Uint8Array): Uint8Array[] {
  const reader = new BinaryReader(setBytes);
  const files: Uint8Array[] = [];
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) files.push(reader.bytes());
    else reader.skip(wireType);
  }
  return files;
}
