import { CreditWindow, DockerFrameSplitter } from './docker-frames.js';

const frame = (stream: 1 | 2, text: string) => {
  const data = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
};

describe('DockerFrameSplitter', () => {
  it('splits frames and tells stdout from stderr', () => {
    const out = new DockerFrameSplitter().push(Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n')]));
    expect(out.map((c) => [c.stream, c.data.toString()])).toEqual([
      ['stdout', 'out\n'],
      ['stderr', 'err\n'],
    ]);
  });

  it('joins frames cut anywhere, header included', () => {
    const bytes = Buffer.concat([frame(1, 'hello\n'), frame(2, 'world\n'), frame(1, '')]);
    for (let cut = 1; cut < bytes.length; cut++) {
      const splitter = new DockerFrameSplitter();
      const out = [...splitter.push(bytes.subarray(0, cut)), ...splitter.push(bytes.subarray(cut))];
      expect(out.map((c) => c.data.toString()).join('')).toBe('hello\nworld\n');
    }
  });
});

describe('CreditWindow', () => {
  it('closes when the reader is a window behind, and opens again on its ack', () => {
    const w = new CreditWindow(100);
    w.onSent(60);
    expect(w.open).toBe(true);
    w.onSent(60);
    expect(w.open).toBe(false);
    expect(w.onAck(10)).toBe(false);
    expect(w.onAck(30)).toBe(true);
    expect(w.open).toBe(true);
  });

  it('ignores acks that repeat, go back, or claim more than was sent', () => {
    const w = new CreditWindow(100);
    w.onSent(150);
    w.onAck(60);
    expect(w.onAck(20)).toBe(false);
    expect(w.open).toBe(true);
    w.onAck(1_000);
    w.onSent(99);
    expect(w.open).toBe(true);
    w.onSent(1);
    expect(w.open).toBe(false);
  });
});
