/**
 * The offline runner's store with an undo journal per block: graph-node commits a block's changes
 * whole, so a block whose handler fails leaves no trace and queries answer as of the block before.
 */
import { EntityStore, type EntityData } from "../tests/runner/store.ts";

export class BlockStore extends EntityStore {
  /** Per touched (type, id): the entity before the block (undefined: it did not exist). */
  private journal: Map<string, { type: string; id: string; before: EntityData | undefined }> | null = null;

  /** Journals (type, id) unless already journaled in this block; returns whether it did. */
  private record(type: string, id: string, before: EntityData | undefined): boolean {
    const key = `${type}\u0000${id}`;
    if (!this.journal || this.journal.has(key)) return false;
    this.journal.set(key, { type, id, before });
    return true;
  }

  /** Starts a block's journal. */
  begin(): void {
    this.journal = new Map();
  }

  commit(): void {
    this.journal = null;
  }

  /** Undoes every change since `begin` (a set never mutates a stored entity: it stores a merged copy). */
  rollback(): void {
    for (const { type, id, before } of this.journal?.values() ?? []) {
      const table = this.entities.get(type);
      if (before) table?.set(id, before);
      else table?.delete(id);
    }
    this.journal = null;
    this.clearInBlock();
  }

  override set(type: string, id: string, data: EntityData): void {
    const size = this.entities.get(type)?.size ?? 0;
    const existed = this.entities.get(type)?.has(id) ?? false;
    const recorded = this.record(type, id, this.entities.get(type)?.get(id));
    super.set(type, id, data);
    // A timeseries point is stored under the next id (1, 2, …), not the one given: journal that one instead.
    const table = this.entities.get(type)!;
    if (table.size > size && (existed || !table.has(id))) {
      if (recorded) this.journal?.delete(`${type}\u0000${id}`);
      this.record(type, String(table.size), undefined);
    }
  }

  override remove(type: string, id: string): void {
    this.record(type, id, this.entities.get(type)?.get(id));
    super.remove(type, id);
  }
}
