import type { SessionDown, SessionUp } from '@berth/proto';
import { ClientSession } from './container-sessions.service.js';

const data = (text: string): SessionUp => ({
  payload: { $case: 'data', value: { stream: 1, data: Buffer.from(text) } },
});
const end: SessionUp = { payload: { $case: 'end', value: { error: '' } } };

function session() {
  const sent: SessionDown[] = [];
  let released = 0;
  const s = new ClientSession(
    's1',
    (f) => sent.push(f),
    () => released++,
  );
  return { s, sent, released: () => released };
}

it('keeps frames that arrive before the reader attaches, in order', () => {
  const { s } = session();
  s.receive(data('a'));
  s.receive(data('b'));
  const got: string[] = [];
  s.attach({ onData: (_stream, d) => got.push(d.toString()), onEnd: () => got.push('end') });
  s.receive(data('c'));
  s.receive(end);
  expect(got).toEqual(['a', 'b', 'c', 'end']);
});

it('acks what the reader consumed in all, once per burst', async () => {
  const { s, sent } = session();
  s.consumed(10);
  s.consumed(20);
  await new Promise((r) => setImmediate(r));
  expect(sent).toEqual([{ payload: { $case: 'ack', value: { consumedBytes: 30 } } }]);
  s.close();
});

it('tells the agent when the client leaves, once, and lets go of its channel', () => {
  const { s, sent, released } = session();
  s.close();
  s.close();
  expect(sent).toEqual([{ payload: { $case: 'end', value: { error: '' } } }]);
  expect(released()).toBe(1);
});
