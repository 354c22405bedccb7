/**
 * Namespace locks. Everything that reads or changes a key (or an upload) goes through one Locker,
 * so distributed mode can swap in quorum locks without touching the object layer.
 */

export type Unlock = () => void;

export interface Locker {
  /** Resolves once held; `write` excludes everyone, `read` excludes writers. FIFO-fair. */
  lock(resource: string, mode: "read" | "write"): Promise<Unlock>;
}

interface Waiter {
  mode: "read" | "write";
  grant: () => void;
}
interface LockState {
  readers: number;
  writer: boolean;
  queue: Waiter[];
}

/** In-process reader/writer locks; a waiting writer blocks later readers (no starvation). */
export class LocalLocker implements Locker {
  readonly #locks = new Map<string, LockState>();

  lock(resource: string, mode: "read" | "write"): Promise<Unlock> {
    let st = this.#locks.get(resource);
    if (st === undefined) this.#locks.set(resource, st = { readers: 0, writer: false, queue: [] });
    const state = st;
    return new Promise((resolve) => {
      const grant = () => {
        if (mode === "write") state.writer = true;
        else state.readers++;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          if (mode === "write") state.writer = false;
          else state.readers--;
          this.#drain(resource, state);
        });
      };
      state.queue.push({ mode, grant });
      this.#drain(resource, state);
    });
  }

  #drain(resource: string, st: LockState): void {
    while (st.queue.length > 0) {
      const head = st.queue[0]!;
      if (st.writer) break;
      if (head.mode === "write" && st.readers > 0) break;
      st.queue.shift();
      head.grant();
      if (head.mode === "write") break;
    }
    if (!st.writer && st.readers === 0 && st.queue.length === 0) this.#locks.delete(resource);
  }

  /** Resources currently locked or waited on (tests). */
  get size(): number {
    return this.#locks.size;
  }
}
