import { resizeOf } from './exec.socket.js';

describe('resizeOf', () => {
  it('reads a terminal size', () => {
    expect(resizeOf('{"resize": {"rows": 24, "cols": 80}}')).toEqual({ rows: 24, cols: 80 });
  });
  it.each([
    '',
    'hello',
    '{}',
    '{"resize": {"rows": 0, "cols": 80}}',
    '{"resize": {"rows": 24.5, "cols": 80}}',
    '{"resize": {"rows": 24, "cols": 100000}}',
    '{"resize": {"rows": "24", "cols": 80}}',
    'null',
  ])('ignores %s', (text) => {
    expect(resizeOf(text)).toBeUndefined();
  });
});
