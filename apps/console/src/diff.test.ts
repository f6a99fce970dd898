import { canonicalJson, diffLines } from './diff';

describe('diffLines', () => {
  it.each([
    ['equal texts', 'a\nb', 'a\nb', [' a', ' b']],
    ['a line added', 'a\nc', 'a\nb\nc', [' a', '+b', ' c']],
    ['a line removed', 'a\nb\nc', 'a\nc', [' a', '-b', ' c']],
    ['a line changed', 'a\nb\nc', 'a\nB\nc', [' a', '-b', '+B', ' c']],
    ['everything new', 'x', 'y\nz', ['-x', '+y', '+z']],
  ])('%s', (_, a, b, expected) => {
    expect(diffLines(a, b).map((l) => `${l.kind}${l.text}`)).toEqual(expected);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth, keeps array order', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }, 3] })).toBe(
      canonicalJson({ a: [{ c: 2, d: 1 }, 3], b: 1 }),
    );
    expect(canonicalJson({ a: [2, 1] })).not.toBe(canonicalJson({ a: [1, 2] }));
  });

  it('makes two revisions that differ in one value differ in one line', () => {
    const v1 = { family: 'web', containerDefinitions: [{ name: 'web', image: 'busybox:1', cpu: 128 }] };
    const v2 = { containerDefinitions: [{ cpu: 128, image: 'busybox:2', name: 'web' }], family: 'web' };
    const changed = diffLines(canonicalJson(v1), canonicalJson(v2)).filter((l) => l.kind !== ' ');
    expect(changed).toEqual([
      { kind: '-', text: '      "image": "busybox:1",' },
      { kind: '+', text: '      "image": "busybox:2",' },
    ]);
  });
});
