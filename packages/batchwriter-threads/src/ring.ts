// Ring arithmetic over a byte area of `capacity` bytes, with virtual (ever-growing)
// offsets: physical = virtual % capacity. A record never straddles the end of the area:
// when it does not fit before the end, the rest of the area is skipped (waste) and the
// record starts at 0. Pure: no threads, no memory, just numbers.

export interface Placement {
  /** Virtual offset where the space taken starts (before any waste). */
  vstart: number;
  /** Physical offset where the record's bytes go. */
  offset: number;
  /** Bytes skipped at the end of the area to keep the record contiguous. */
  waste: number;
}

export class Ring {
  readonly capacity: number;
  /** Virtual offset of the next free byte. */
  head = 0;
  /** Virtual offset below which everything is released. */
  tail = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get used(): number {
    return this.head - this.tail;
  }

  /** Where a record of `length` bytes would go now, or undefined when there is no room yet. */
  place(length: number): Placement | undefined {
    if (length > this.capacity) return undefined;
    if (this.head === this.tail) {
      // Empty: start over at physical 0, so any record up to the capacity fits.
      const restart = Math.ceil(this.head / this.capacity) * this.capacity;
      this.head = this.tail = restart;
    }
    const offset = this.head % this.capacity;
    const waste = offset + length > this.capacity ? this.capacity - offset : 0;
    if (this.used + waste + length > this.capacity) return undefined;
    return { vstart: this.head, offset: waste ? 0 : offset, waste };
  }

  /** Bytes from `offset` that are free and contiguous (what a record may be encoded into). */
  contiguousFree(): { offset: number; length: number } {
    if (this.head === this.tail) this.place(0);
    const offset = this.head % this.capacity;
    const free = this.capacity - this.used;
    return { offset, length: Math.min(free, this.capacity - offset) };
  }

  /** Takes the space `place` offered. */
  commit(placement: Placement, length: number): void {
    this.head = placement.vstart + placement.waste + length;
  }

  /** Releases everything below virtual offset `to` (must be monotonic). */
  release(to: number): void {
    if (to < this.tail || to > this.head) throw new RangeError(`release to ${to} outside [${this.tail}, ${this.head}]`);
    this.tail = to;
  }
}
