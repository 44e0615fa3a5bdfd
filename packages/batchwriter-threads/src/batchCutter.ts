// Decides where batches begin and end. Records arrive in ring order; the cutter groups
// them into contiguous byte ranges, seals a range when it reaches maxBatchDocs or
// maxBatchBytes or when the ring wraps, and leaves the delay decision to `due()`. Pure.

export interface Batch {
  id: number;
  /** Virtual range this batch owns in the ring (includes wrap waste at its front). */
  vstart: number;
  vend: number;
  /** Physical byte range of its records (contiguous). */
  start: number;
  end: number;
  count: number;
  /** performance.now() of its first record. */
  firstAt: number;
}

export interface CutterLimits {
  maxBatchDocs: number;
  maxBatchBytes: number;
  maxDelayMs: number;
}

export class BatchCutter {
  private readonly limits: CutterLimits;
  private nextId = 1;
  /** The batch still taking records, if any. */
  open: Batch | undefined;
  /** Full batches waiting for an in-flight slot, oldest first. */
  readonly sealed: Batch[] = [];

  constructor(limits: CutterLimits) {
    this.limits = limits;
  }

  /** Records a record of `length` bytes placed at `offset` (`vstart` includes any waste). */
  add(vstart: number, offset: number, waste: number, length: number, now: number): void {
    let open = this.open;
    if (open && (waste > 0 || open.end - open.start + length > this.limits.maxBatchBytes)) {
      this.seal();
      open = undefined;
    }
    if (!open) {
      open = { id: this.nextId++, vstart, vend: vstart, start: offset, end: offset, count: 0, firstAt: now };
      this.open = open;
    }
    open.end = offset + length;
    open.vend = vstart + waste + length;
    open.count += 1;
    if (open.count >= this.limits.maxBatchDocs || open.end - open.start >= this.limits.maxBatchBytes) this.seal();
  }

  /** Closes the open batch (if any) and queues it for dispatch. */
  seal(): void {
    if (this.open) {
      this.sealed.push(this.open);
      this.open = undefined;
    }
  }

  /** True when the open batch has waited maxDelayMs since its first record. */
  due(now: number): boolean {
    return this.open !== undefined && now - this.open.firstAt >= this.limits.maxDelayMs;
  }

  /** Milliseconds until the open batch is due (undefined when there is none). */
  msUntilDue(now: number): number | undefined {
    return this.open === undefined ? undefined : Math.max(0, this.open.firstAt + this.limits.maxDelayMs - now);
  }

  /** The next batch to dispatch: a sealed one, else the open one when due or when `force`. */
  take(now: number, force = false): Batch | undefined {
    if (this.sealed.length === 0 && (force || this.due(now))) this.seal();
    return this.sealed.shift();
  }
}
