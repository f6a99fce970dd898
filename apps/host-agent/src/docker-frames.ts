/**
 * Docker's multiplexed stream (logs and exec of a container without a tty): frames of an 8-byte
 * header, [stream, 0, 0, 0, size as uint32 big-endian], then `size` bytes; stream 1 is stdout,
 * 2 stderr. Chunks from the socket cut frames anywhere: this splits them again.
 */
export interface OutputChunk {
  stream: 'stdout' | 'stderr';
  data: Buffer;
}

const HEADER = 8;

export class DockerFrameSplitter {
  private pending: Buffer = Buffer.alloc(0);

  /** The whole frames (or parts of one, when a frame is large) that `chunk` completes. */
  push(chunk: Buffer): OutputChunk[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: OutputChunk[] = [];
    while (this.pending.length >= HEADER) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < HEADER + size) break;
      const stream = this.pending[0] === 2 ? 'stderr' : 'stdout';
      if (size > 0) out.push({ stream, data: this.pending.subarray(HEADER, HEADER + size) });
      this.pending = this.pending.subarray(HEADER + size);
    }
    return out;
  }
}

/**
 * Flow control of one session: at most `window` bytes sent and not yet consumed by the reader
 * at the other end. The reader's acks carry the bytes consumed in all, so a lost or repeated ack
 * does no harm; the sender pauses its source while `open` is false.
 */
export class CreditWindow {
  private sent = 0;
  private consumed = 0;

  constructor(readonly window: number) {}

  get open(): boolean {
    return this.sent - this.consumed < this.window;
  }

  onSent(bytes: number): void {
    this.sent += bytes;
  }

  /** Returns whether the window opened again with this ack. */
  onAck(consumedBytes: number): boolean {
    const wasOpen = this.open;
    this.consumed = Math.max(this.consumed, Math.min(consumedBytes, this.sent));
    return !wasOpen && this.open;
  }
}
