import { evaluate, ExpressionError, parseExpression } from './expression.js';

const host =
  (attrs: Record<string, string>, fields: Record<string, string> = {}) =>
  (s: string) =>
    s.startsWith('attribute:') ? attrs[s.slice(10)] : fields[s];

const matches = (expr: string, attrs: Record<string, string>, fields?: Record<string, string>) =>
  evaluate(parseExpression(expr), host(attrs, fields));

describe('the cluster query language', () => {
  it.each([
    ['attribute:zone == eu-1a', { zone: 'eu-1a' }, true],
    ['attribute:zone == eu-1*', { zone: 'eu-1b' }, true],
    ['attribute:zone != eu-1a', { zone: 'eu-1b' }, true],
    ['attribute:zone != eu-1a', {}, true],
    ['attribute:zone in [eu-1a, eu-1b]', { zone: 'eu-1b' }, true],
    ['attribute:zone in [eu-1a, eu-1b]', { zone: 'eu-1c' }, false],
    ['attribute:zone !in [eu-1a]', { zone: 'eu-1c' }, true],
    ['attribute:zone not in [eu-1a]', { zone: 'eu-1a' }, false],
    ['attribute:gpu exists', { gpu: 'a100' }, true],
    ['attribute:gpu exists', {}, false],
    ['attribute:gpu !exists', {}, true],
    ['attribute:size =~ (large|xlarge)', { size: 'xlarge' }, true],
    ['attribute:size =~ large', { size: 'xlarge' }, false],
    ['attribute:size !~ x.*', { size: 'large' }, true],
    ['attribute:cores > 8', { cores: '16' }, true],
    ['attribute:cores > 8', { cores: '4' }, false],
    ['attribute:cores <= 4', { cores: '4' }, true],
    ['not(attribute:arch == arm64)', { arch: 'x86_64' }, true],
    ['!(attribute:arch == arm64)', { arch: 'arm64' }, false],
    ['attribute:a == 1 and attribute:b == 2', { a: '1', b: '2' }, true],
    ['attribute:a == 1 and attribute:b == 2', { a: '1', b: '3' }, false],
    ['attribute:a == 1 or attribute:b == 2', { a: '0', b: '2' }, true],
    ['attribute:a == 1 or attribute:b == 2 and attribute:c == 3', { a: '1' }, true],
    ['(attribute:a == 1 or attribute:b == 2) and attribute:c == 3', { a: '1' }, false],
    ['attribute:a == 1 AND attribute:b == 2', { a: '1', b: '2' }, true],
  ])('%s on %j is %s', (expr, attrs, expected) => {
    expect(matches(expr, attrs)).toBe(expected);
  });

  it('reads instance fields', () => {
    expect(
      matches(
        'registeredCpu >= 2048 and hostAddress == 10.0.*',
        {},
        { registeredCpu: '4096', hostAddress: '10.0.0.7' },
      ),
    ).toBe(true);
  });

  it.each([
    ['attribute:zone ==', "expected a value but found 'end of expression' at position 18"],
    ['attribute:zone = eu', "unexpected character '=' at position 16"],
    ['attribute:zone in [a, b', "expected ',' or ']' but found 'end of expression' at position 24"],
    ['zone == a', "unknown subject 'zone': use attribute:<name> or one of"],
    ['attribute:zone == a b', "unexpected 'b' at position 21"],
    ['not attribute:a == 1', "expected '(' but found 'attribute:a' at position 5"],
    ['attribute:a =~ (', "'(' is not a valid regular expression"],
    ['(attribute:a == 1', "expected ')' but found 'end of expression' at position 18"],
    [
      'attribute:a likes b',
      "expected an operator (==, !=, =~, !~, >, >=, <, <=, exists, in) but found 'likes' at position 13",
    ],
  ])('rejects %s, saying where', (expr, message) => {
    expect(() => parseExpression(expr)).toThrow(ExpressionError);
    expect(() => parseExpression(expr)).toThrow(message);
  });
});

it('takes a regular expression up to the next space, leaving the closing parenthesis of a group', () => {
  expect(
    matches('(attribute:size =~ (x)?large) and attribute:zone == a', { size: 'xlarge', zone: 'a' }),
  ).toBe(true);
});

describe('patterns from API callers', () => {
  // 1000 distinct instance ids, as the scheduler sees a large cluster.
  const ids = Array.from(
    { length: 1000 },
    (_, i) => `${i.toString(16).padStart(8, '0')}-0123-4567-89ab-0123456789ab`,
  );

  // Backtracking engines take minutes on one of these 36-character ids: a regular expression with
  // nested quantifiers, and a wildcard with many stars that cannot match.
  it.each([
    ['instanceId =~ ([0-9a-f-]+)+Z', false],
    ['instanceId !~ ([0-9a-f-]+)+Z', true],
    [`instanceId == ${'*0'.repeat(30)}*Z`, false],
    [`instanceId in [x, ${'*0'.repeat(30)}*Z]`, false],
  ])('%s evaluates over 1000 instances in linear time', (source, expected) => {
    const expr = parseExpression(source);
    const started = performance.now();
    const results = ids.map((id) => evaluate(expr, host({}, { instanceId: id })));
    const elapsed = performance.now() - started;
    expect(results.every((r) => r === expected)).toBe(true);
    // About 10 ms here; the bound is loose so that a busy machine does not fail it.
    expect(elapsed).toBeLessThan(2000);
  });

  it('still matches what the pattern describes', () => {
    expect(matches('instanceId =~ ([0-9a-f-]+)+', {}, { instanceId: ids[7]! })).toBe(true);
    expect(matches('attribute:rack == r*1*', { rack: 'r-101' })).toBe(true);
    expect(matches('attribute:rack == r.1', { rack: 'rx1' })).toBe(false);
  });

  it.each([
    ['attribute:a =~ (x)\\1', 'invalid escape sequence'],
    ['attribute:a =~ (?=x)x', 'invalid or unsupported Perl syntax'],
    ['attribute:a =~ x(?<!y)', 'invalid named capture'],
  ])('refuses %s: RE2 has no backreferences or lookaround', (source, why) => {
    expect(() => parseExpression(source)).toThrow(why);
    expect(() => parseExpression(source)).toThrow('(RE2 syntax, without backreferences or lookaround)');
  });

  it('refuses an expression longer than ECS allows', () => {
    const source = `attribute:zone in [${Array(400).fill('eu-1a').join(', ')}]`;
    expect(() => parseExpression(source)).toThrow('expression is longer than 2000 characters');
  });
});
