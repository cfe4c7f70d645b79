// Bounds an Avro value before avsc decodes it. avsc trusts a block's item count: `array<null>` items
// take no bytes, so a 10-byte value whose block says 50,000,000 decodes to 50 M nulls (the heap dies,
// the process restarts and meets the same record), and items of any type are read past the end of the
// buffer before the decode fails. This walks the bytes with the writer schema first, skipping values
// without building them: every block count must fit in the bytes left (at its items' smallest size),
// all blocks of one value together hold at most `maxItems` items, and nesting (collections, or a
// recursive record) is at most `maxDepth` levels. Only schemas with collections or recursion need it.
import type avro from 'avsc';

export interface AvroLimits {
  maxItems: number;
  maxDepth: number;
}

export interface BoundsProblem {
  errorType: 'too_many_items' | 'too_deep' | 'avro_corrupt';
  reason: string;
}

/** What the walker reads of avsc's types (their public accessors). */
interface TypeView {
  typeName: string;
  itemsType?: TypeView;
  valuesType?: TypeView;
  fields?: { type: TypeView }[];
  types?: TypeView[];
  size?: number;
  underlyingType?: TypeView;
}

const view = (type: avro.Type): TypeView => type as unknown as TypeView;

/** Whether values of this type can hold collections or unbounded nesting (then they need checking). */
export function needsBounds(type: avro.Type): boolean {
  const seen = new Set<TypeView>();
  const visit = (t: TypeView): boolean => {
    if (seen.has(t)) return true; // a recursive reference: nesting is bounded only by the bytes
    const kind = baseName(t);
    if (kind === 'array' || kind === 'map') return true;
    seen.add(t);
    const inner = innerTypes(t);
    const found = inner.some(visit);
    seen.delete(t);
    return found;
  };
  return visit(view(type));
}

/** Checks the Avro binary `bytes[start..]` against `type`; undefined when avsc may decode it. */
export function checkAvroBounds(type: avro.Type, bytes: Buffer, start: number, limits: AvroLimits): BoundsProblem | undefined {
  const walker = new Walker(bytes, start, limits);
  try {
    walker.walk(view(type), 0);
    return undefined;
  } catch (error) {
    if (error instanceof Bounded) return error.problem;
    throw error;
  }
}

class Bounded extends Error {
  constructor(readonly problem: BoundsProblem) {
    super(problem.reason);
  }
}

class Walker {
  #pos: number;
  #items = 0;
  readonly #minWidths = new Map<TypeView, number>();

  constructor(
    private readonly bytes: Buffer,
    start: number,
    private readonly limits: AvroLimits,
  ) {
    this.#pos = start;
  }

  walk(type: TypeView, depth: number): void {
    if (depth > this.limits.maxDepth) throw new Bounded({ errorType: 'too_deep', reason: `Avro value nested deeper than decode.maxDepth (${this.limits.maxDepth})` });
    switch (baseName(type)) {
      case 'null':
        return;
      case 'boolean':
        return this.#skip(1);
      case 'int':
      case 'long':
      case 'enum':
        this.#readLong();
        return;
      case 'float':
        return this.#skip(4);
      case 'double':
        return this.#skip(8);
      case 'bytes':
      case 'string':
        return this.#skip(this.#length());
      case 'fixed':
        return this.#skip(type.size ?? 0);
      case 'record':
      case 'error':
        for (const field of type.fields ?? []) this.walk(field.type, depth + 1);
        return;
      case 'union': {
        const branches = type.types ?? [];
        const index = this.#readLong();
        if (!(index >= 0 && index < branches.length)) this.#corrupt(`union branch ${index} of ${branches.length}`);
        return this.walk(branches[index]!, depth + 1);
      }
      case 'array':
        return this.#blocks(depth, (d) => this.walk(type.itemsType!, d), this.#minWidth(type.itemsType!));
      case 'map':
        return this.#blocks(
          depth,
          (d) => {
            this.#skip(this.#length());
            this.walk(type.valuesType!, d);
          },
          1 + this.#minWidth(type.valuesType!),
        );
      default:
        // An unknown kind of type: leave it to avsc.
        return;
    }
  }

  /** Array and map blocks: a count (negative: followed by the block's size in bytes), until a 0 count. */
  #blocks(depth: number, item: (depth: number) => void, minWidth: number): void {
    for (;;) {
      let count = this.#readLong();
      if (count === 0) return;
      if (count < 0) {
        count = -count;
        this.#readLong();
      }
      this.#items += count;
      if (this.#items > this.limits.maxItems) throw new Bounded({ errorType: 'too_many_items', reason: `Avro value holds more than decode.maxItems (${this.limits.maxItems}) array or map items` });
      const left = this.bytes.length - this.#pos;
      if (count * minWidth > left) this.#corrupt(`a block of ${count} items cannot fit in the ${left} bytes left`);
      for (let i = 0; i < count; i++) item(depth + 1);
    }
  }

  /** The fewest bytes a value of the type takes (0 for null and records of nulls). */
  #minWidth(type: TypeView): number {
    const known = this.#minWidths.get(type);
    if (known !== undefined) return known;
    this.#minWidths.set(type, 0); // a recursive reference counts as 0 while it is being measured
    let width: number;
    switch (baseName(type)) {
      case 'null':
        width = 0;
        break;
      case 'float':
        width = 4;
        break;
      case 'double':
        width = 8;
        break;
      case 'fixed':
        width = type.size ?? 0;
        break;
      case 'record':
      case 'error':
        width = (type.fields ?? []).reduce((sum, f) => sum + this.#minWidth(f.type), 0);
        break;
      default:
        width = 1; // booleans, varints, lengths, union indexes, a collection's final 0
    }
    this.#minWidths.set(type, width);
    return width;
  }

  #length(): number {
    const length = this.#readLong();
    if (length < 0) this.#corrupt(`negative length ${length}`);
    return length;
  }

  #skip(bytes: number): void {
    this.#pos += bytes;
    if (this.#pos > this.bytes.length) this.#corrupt('the value ends early');
  }

  /** A zig-zag varint as a number (exact up to 2^53; past that only its size matters here). */
  #readLong(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.#pos >= this.bytes.length) this.#corrupt('the value ends early');
      const b = this.bytes[this.#pos++]!;
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
      scale *= 128;
    }
    return this.#corrupt('a varint longer than 10 bytes');
  }

  #corrupt(what: string): never {
    throw new Bounded({ errorType: 'avro_corrupt', reason: `payload does not match its schema: ${what}` });
  }
}

/** avsc's type name without its variants: union:wrapped → union; a logical type → its underlying type. */
function baseName(type: TypeView): string {
  if (type.underlyingType) return baseName(type.underlyingType);
  const name = type.typeName;
  if (name.startsWith('union')) return 'union';
  if (name === 'abstract:long') return 'long';
  return name;
}

function innerTypes(type: TypeView): TypeView[] {
  if (type.underlyingType) return [type.underlyingType];
  return [...(type.itemsType ? [type.itemsType] : []), ...(type.valuesType ? [type.valuesType] : []), ...(type.fields ?? []).map((f) => f.type), ...(type.types ?? [])];
}
