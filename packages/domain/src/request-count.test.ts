import {
  counterIncrease,
  requestsPerMinute,
  requestsPerTarget,
  type RequestSample,
} from './request-count.js';

const at = (s: number) => new Date(Date.UTC(2026, 10, 28, 1, 0, 0) + s * 1000);
const series = (...points: [number, number][]): RequestSample[] =>
  points.map(([s, requests]) => ({ sampledAt: at(s), requests }));
const window = (fromS: number, toS: number) => ({ from: at(fromS), to: at(toS) });

describe('counterIncrease', () => {
  it.each<[string, RequestSample[], number]>([
    ['no samples', [], 0],
    ['one sample', series([0, 100]), 0],
    ['a steady counter', series([0, 100], [10, 100]), 0],
    ['a growing counter', series([0, 100], [10, 160], [20, 220]), 120],
    ['a restart: the value after it is all new', series([0, 100], [10, 160], [20, 30], [30, 90]), 150],
    ['a restart to 0', series([0, 500], [10, 0], [20, 10]), 10],
  ])('%s', (_, samples, want) => {
    expect(counterIncrease(samples)).toBe(want);
  });
});

describe('requestsPerMinute', () => {
  it.each<[string, RequestSample[][], [number, number], number | null, number]>([
    ['no counter', [], [0, 60], null, 0],
    ['one sample in the window: no rate', [series([30, 100])], [0, 60], null, 1],
    ['60 requests over 30 s: 120 per minute', [series([10, 0], [40, 60])], [0, 60], 120, 2],
    ['samples outside the window do not count', [series([-30, 0], [10, 1000], [40, 1060])], [0, 60], 120, 2],
    [
      'the end of the window is in it, the start is not',
      [series([0, 0], [30, 30], [60, 60])],
      [0, 60],
      60,
      2,
    ],
    ['two reporters add up', [series([0.5, 0], [30.5, 60]), series([10, 500], [40, 530])], [0, 60], 180, 4],
    ['a reset inside the window', [series([10, 900], [20, 960], [30, 40])], [0, 60], 300, 3],
  ])('%s', (_, counters, [from, to], value, samples) => {
    expect(requestsPerMinute(counters, window(from, to))).toEqual({ value, samples });
  });
});

describe('requestsPerTarget', () => {
  it.each<[string, number, number | null]>([
    ['120 per minute over 2 targets', 2, 60],
    ['no target: nothing to divide by', 0, null],
  ])('%s', (_, targets, value) => {
    expect(requestsPerTarget({ counters: [series([10, 0], [40, 60])], targets }, window(0, 60)).value).toBe(
      value,
    );
  });
});
