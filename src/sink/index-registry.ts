// Indices created on first use. With index templates (daily indices, one per topic, per region...)
// the names are only known when records arrive; each is created from elastic.indexDefinitionFile
// (matching index templates apply too) before the first bulk that writes it, so its mapping is the
// intended one rather than whatever auto-creation would guess. Known names are cached: a batch whose
// indices are all known costs no request, and each name is asked about once.

/** The engine calls this needs; SearchClient has them. */
export interface IndexAdmin {
  indexExists(index: string): Promise<boolean>;
  createIndex(index: string, definition?: object): Promise<void>;
}

/** How many names are remembered; past it the cache starts over (a HEAD per name is cheap). */
const MAX_KNOWN = 10_000;

export class IndexRegistry {
  readonly #known = new Set<string>();
  readonly #pending = new Map<string, Promise<void>>();

  constructor(
    private readonly admin: IndexAdmin,
    private readonly definition: object | undefined,
    private readonly onCreated: (index: string) => void = () => undefined,
  ) {}

  /** Marks names that exist already (the initialization check made them). */
  know(...indices: string[]): void {
    for (const index of indices) this.#known.add(index);
  }

  /**
   * Resolves once every index exists; undefined (no promise at all) when all are known. Rejects with
   * the engine's error (a SearchHttpError: retriable or not) for the caller to retry.
   */
  ensure(indices: Iterable<string>): Promise<void> | undefined {
    let waits: Promise<void>[] | undefined;
    for (const index of indices) {
      if (this.#known.has(index)) continue;
      (waits ??= []).push(this.#ensureOne(index));
    }
    return waits === undefined ? undefined : Promise.all(waits).then(() => undefined);
  }

  /** Indices the engine says are gone (deleted while running): forgotten, then made sure of again. */
  recreate(indices: Iterable<string>): Promise<void> {
    const names = [...indices];
    for (const index of names) this.#known.delete(index);
    return this.ensure(names) ?? Promise.resolve();
  }

  #ensureOne(index: string): Promise<void> {
    let pending = this.#pending.get(index);
    if (pending) return pending;
    pending = (async () => {
      if (!(await this.admin.indexExists(index))) {
        // Another instance may create it at the same moment: createIndex accepts "already exists".
        await this.admin.createIndex(index, this.definition ?? {});
        this.onCreated(index);
      }
      if (this.#known.size >= MAX_KNOWN) this.#known.clear();
      this.#known.add(index);
    })().finally(() => this.#pending.delete(index));
    this.#pending.set(index, pending);
    return pending;
  }
}
