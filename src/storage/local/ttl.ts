// Tracks keys written with a TTL and reports the ones due, so the store can delete them like etcd's leases do.

interface Entry {
  expiresAt: number;
  modRevision: number;
}

export class TtlTracker {
  private readonly entries = new Map<string, Entry>();
  private nextDue = Infinity;

  set(key: string, modRevision: number, ttlSeconds: number, now = Date.now()): void {
    const expiresAt = now + ttlSeconds * 1000;
    this.entries.set(key, { expiresAt, modRevision });
    if (expiresAt < this.nextDue) this.nextDue = expiresAt;
  }

  clear(key: string): void {
    this.entries.delete(key);
  }

  /** Keys whose TTL has passed, with the revision the TTL was attached to (delete only if still unchanged). */
  takeDue(now = Date.now()): Array<{ key: string; modRevision: number }> {
    if (now < this.nextDue) return [];
    const due: Array<{ key: string; modRevision: number }> = [];
    let next = Infinity;
    for (const [key, e] of this.entries) {
      if (e.expiresAt <= now) {
        due.push({ key, modRevision: e.modRevision });
        this.entries.delete(key);
      } else if (e.expiresAt < next) next = e.expiresAt;
    }
    this.nextDue = next;
    return due;
  }
}
