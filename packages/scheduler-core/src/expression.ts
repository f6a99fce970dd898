import { RE2JS, RE2JSException, RE2JSSyntaxException } from 're2js';

/**
 * The cluster query language of ECS `memberOf` constraints, over an instance's attributes and
 * fields:
 *
 *   attribute:zone in [eu-1a, eu-1b]        attribute:arch == arm64
 *   attribute:gpu exists                    not(attribute:os == windows)
 *   attribute:tier != db and (registeredCpu >= 2048 or attribute:size =~ large.*)
 *
 * Operators: == != (a `*` in the value is a wildcard), =~ !~ (regular expressions, anchored),
 * > >= < <= (numbers when both sides are numbers), exists !exists, in !in (lists). Words:
 * and, or, not(…) or !(…). Subjects: `attribute:<name>` and the fields in INSTANCE_FIELDS.
 *
 * Patterns (regular expressions and wildcards) run on RE2, which matches in time linear in the
 * input: an expression comes from API callers, and JavaScript's backtracking RegExp would let one
 * of them stall the scheduler (`([0-9a-f-]+)+Z`, or `*a*a*a…*b` as a wildcard). RE2 has no
 * backreferences or lookaround, so such expressions are refused when they are parsed.
 */

/** ECS's limit on one memberOf expression, which also bounds parsing and matching work. */
export const MAX_EXPRESSION_LENGTH = 2000;

export const INSTANCE_FIELDS = [
  'instanceId',
  'hostAddress',
  'agentVersion',
  'agentConnected',
  'runningTasksCount',
  'registeredCpu',
  'registeredMemory',
  'remainingCpu',
  'remainingMemory',
] as const;
export type InstanceField = (typeof INSTANCE_FIELDS)[number];

/** A compiled, anchored pattern: a regular expression or a wildcard value. */
export interface Pattern {
  source: string;
  matches(value: string): boolean;
}

export type Expression =
  | { type: 'and' | 'or'; left: Expression; right: Expression }
  | { type: 'not'; expr: Expression }
  | { type: 'compare'; subject: string; op: OrderOp; value: string }
  | { type: 'compare'; subject: string; op: 'exists' | '!exists' }
  | { type: 'compare'; subject: string; op: MatchOp; patterns: readonly Pattern[] };

type OrderOp = '>' | '>=' | '<' | '<=';
type MatchOp = '==' | '!=' | '=~' | '!~' | 'in' | '!in';

type CompareOp = OrderOp | MatchOp | 'exists' | '!exists';

export class ExpressionError extends Error {
  constructor(
    readonly reason: string,
    readonly position: number,
  ) {
    super(`${reason} at position ${position + 1}`);
  }
}

interface Token {
  kind: 'word' | 'op' | 'punct' | 'end';
  text: string;
  pos: number;
}

const WORD = /[A-Za-z0-9_.:\-*/$^+?{}|\\]/;
const OPERATORS = ['==', '!=', '=~', '!~', '>=', '<=', '>', '<'];

const count = (s: string, c: string) => s.split(c).length - 1;

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const last = tokens.at(-1);
    if (last?.kind === 'op' && (last.text === '=~' || last.text === '!~')) {
      // A regular expression runs to the next space; closing parentheses it does not open are the
      // expression's own: `(attribute:a =~ x.*)`.
      const start = i;
      while (i < input.length && !/\s/.test(input[i]!)) i++;
      let word = input.slice(start, i);
      while (word.endsWith(')') && count(word, ')') > count(word, '(')) word = word.slice(0, -1);
      i = start + word.length;
      tokens.push({ kind: 'word', text: word, pos: start });
      continue;
    }
    const op = OPERATORS.find((o) => input.startsWith(o, i));
    if (op) {
      tokens.push({ kind: 'op', text: op, pos: i });
      i += op.length;
    } else if ('()[],!'.includes(c)) {
      tokens.push({ kind: 'punct', text: c, pos: i });
      i++;
    } else if (WORD.test(c)) {
      const start = i;
      while (i < input.length && WORD.test(input[i]!)) i++;
      tokens.push({ kind: 'word', text: input.slice(start, i), pos: start });
    } else {
      throw new ExpressionError(`unexpected character '${c}'`, i);
    }
  }
  tokens.push({ kind: 'end', text: 'end of expression', pos: input.length });
  return tokens;
}

const isKeyword = (t: Token, word: string) => t.kind === 'word' && t.text.toLowerCase() === word;

/** Parses an expression, or throws an ExpressionError that says what was wrong and where. */
export function parseExpression(input: string): Expression {
  if (input.length > MAX_EXPRESSION_LENGTH) {
    throw new ExpressionError(
      `expression is longer than ${MAX_EXPRESSION_LENGTH} characters`,
      MAX_EXPRESSION_LENGTH,
    );
  }
  const tokens = tokenize(input);
  let at = 0;
  const peek = () => tokens[at]!;
  const next = () => tokens[at++]!;
  const expect = (text: string) => {
    const t = next();
    if (t.text !== text) throw new ExpressionError(`expected '${text}' but found '${t.text}'`, t.pos);
  };

  const parseOr = (): Expression => {
    let left = parseAnd();
    while (isKeyword(peek(), 'or')) {
      next();
      left = { type: 'or', left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): Expression => {
    let left = parseUnary();
    while (isKeyword(peek(), 'and')) {
      next();
      left = { type: 'and', left, right: parseUnary() };
    }
    return left;
  };
  const parseUnary = (): Expression => {
    const t = peek();
    if (isKeyword(t, 'not') || (t.kind === 'punct' && t.text === '!')) {
      next();
      expect('(');
      const expr = parseOr();
      expect(')');
      return { type: 'not', expr };
    }
    if (t.kind === 'punct' && t.text === '(') {
      next();
      const expr = parseOr();
      expect(')');
      return expr;
    }
    return parseComparison();
  };
  const parseComparison = (): Expression => {
    const subject = next();
    if (subject.kind !== 'word')
      throw new ExpressionError(`expected an attribute or field but found '${subject.text}'`, subject.pos);
    checkSubject(subject);
    const t = next();
    let op: CompareOp;
    if (t.kind === 'op') op = t.text as CompareOp;
    else if (t.kind === 'punct' && t.text === '!') {
      const w = next();
      if (isKeyword(w, 'exists')) op = '!exists';
      else if (isKeyword(w, 'in')) op = '!in';
      else throw new ExpressionError(`expected 'exists' or 'in' after '!' but found '${w.text}'`, w.pos);
    } else if (isKeyword(t, 'exists')) op = 'exists';
    else if (isKeyword(t, 'in')) op = 'in';
    else if (isKeyword(t, 'not') && isKeyword(peek(), 'in')) {
      next();
      op = '!in';
    } else
      throw new ExpressionError(
        `expected an operator (==, !=, =~, !~, >, >=, <, <=, exists, in) but found '${t.text}'`,
        t.pos,
      );

    if (op === 'exists' || op === '!exists') return { type: 'compare', subject: subject.text, op };
    if (op === 'in' || op === '!in') {
      expect('[');
      const patterns: Pattern[] = [];
      for (;;) {
        const v = next();
        if (v.kind !== 'word') throw new ExpressionError(`expected a value but found '${v.text}'`, v.pos);
        patterns.push(wildcard(v.text));
        const sep = next();
        if (sep.text === ']') break;
        if (sep.text !== ',')
          throw new ExpressionError(`expected ',' or ']' but found '${sep.text}'`, sep.pos);
      }
      return { type: 'compare', subject: subject.text, op, patterns };
    }
    const v = next();
    if (v.kind !== 'word') throw new ExpressionError(`expected a value but found '${v.text}'`, v.pos);
    if (op === '=~' || op === '!~')
      return { type: 'compare', subject: subject.text, op, patterns: [regex(v)] };
    if (op === '==' || op === '!=')
      return { type: 'compare', subject: subject.text, op, patterns: [wildcard(v.text)] };
    return { type: 'compare', subject: subject.text, op, value: v.text };
  };

  const expr = parseOr();
  const rest = peek();
  if (rest.kind !== 'end') throw new ExpressionError(`unexpected '${rest.text}'`, rest.pos);
  return expr;
}

function checkSubject(t: Token): void {
  if (t.text.startsWith('attribute:')) {
    if (!/^attribute:[A-Za-z0-9_.-]{1,128}$/.test(t.text)) {
      throw new ExpressionError(
        `'${t.text}' is not a valid attribute name (letters, digits, _ . - up to 128)`,
        t.pos,
      );
    }
    return;
  }
  if (!(INSTANCE_FIELDS as readonly string[]).includes(t.text)) {
    throw new ExpressionError(
      `unknown subject '${t.text}': use attribute:<name> or one of ${INSTANCE_FIELDS.join(', ')}`,
      t.pos,
    );
  }
}

/** What an expression can see of an instance: its attributes and its fields, as strings. */
export type ExpressionSubject = (subject: string) => string | undefined;

const compiled = (source: string, re: RE2JS): Pattern => ({ source, matches: (value) => re.matches(value) });

/** A regular expression in RE2 syntax, matched against the whole value. */
function regex(t: Token): Pattern {
  try {
    return compiled(t.text, RE2JS.compile(t.text));
  } catch (e) {
    if (!(e instanceof RE2JSException)) throw e;
    const why =
      e instanceof RE2JSSyntaxException ? `${e.getDescription()} at '${e.getPattern()}'` : e.message;
    throw new ExpressionError(
      `'${t.text}' is not a valid regular expression: ${why} (RE2 syntax, without backreferences or lookaround)`,
      t.pos,
    );
  }
}

/** A value where `*` stands for any run of characters; everything else is literal. */
const wildcard = (value: string): Pattern =>
  compiled(
    value,
    RE2JS.compile(
      value
        .split('*')
        .map((part) => RE2JS.quote(part))
        .join('.*'),
    ),
  );

function compare(a: string, b: string): number {
  const [x, y] = [Number(a), Number(b)];
  if (a.trim() !== '' && b.trim() !== '' && Number.isFinite(x) && Number.isFinite(y)) return x - y;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function evaluate(expr: Expression, lookup: ExpressionSubject): boolean {
  switch (expr.type) {
    case 'and':
      return evaluate(expr.left, lookup) && evaluate(expr.right, lookup);
    case 'or':
      return evaluate(expr.left, lookup) || evaluate(expr.right, lookup);
    case 'not':
      return !evaluate(expr.expr, lookup);
    case 'compare': {
      const actual = lookup(expr.subject);
      switch (expr.op) {
        case 'exists':
          return actual !== undefined;
        case '!exists':
          return actual === undefined;
        case 'in':
        case '==':
        case '=~':
          return actual !== undefined && expr.patterns.some((p) => p.matches(actual));
        case '!in':
        case '!=':
        case '!~':
          return actual === undefined || !expr.patterns.some((p) => p.matches(actual));
        case '>':
          return actual !== undefined && compare(actual, expr.value) > 0;
        case '>=':
          return actual !== undefined && compare(actual, expr.value) >= 0;
        case '<':
          return actual !== undefined && compare(actual, expr.value) < 0;
        case '<=':
          return actual !== undefined && compare(actual, expr.value) <= 0;
      }
    }
  }
}
