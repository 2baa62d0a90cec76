// One run per browser profile: runs share the IndexedDB/OPFS data store, so a second tab must not start one.
// The Web Locks API releases the lock when the tab closes or crashes, which a flag in storage would not.

export const RUN_LOCK = 'cpo-studio-run';

export type LockResult<T> = { acquired: true; value: T } | { acquired: false };

export async function withRunLock<T>(fn: () => Promise<T>, locks: LockManager | undefined = globalThis.navigator?.locks): Promise<LockResult<T>> {
  // Without the API (very old browsers, Node tests) there is no other tab to protect against.
  if (!locks) return { acquired: true, value: await fn() };
  return locks.request(RUN_LOCK, { ifAvailable: true }, async (lock) => {
    if (!lock) return { acquired: false } as const;
    return { acquired: true, value: await fn() } as const;
  });
}

export const LOCK_HELD_MESSAGE =
  'Another CPO Studio tab or window is already training in this browser. Only one run at a time can use the shared data store: pause or stop it there, or close that tab, then try again.';
