import assert from 'node:assert/strict';

/** Returns N of a frame whose message ends with ` EN`, the events that the drain tests send. */
export function eventNumber(frame: string): number {
  return Number(frame.slice(frame.lastIndexOf(' E') + 2));
}

/** Checks that `frames` carry the events 1 to `total`, once each and in order. */
export function assertEventsInOrder(frames: readonly string[], total: number): void {
  const numbers = frames.map(eventNumber);
  assert.equal(numbers.length, total);
  assert.ok(
    numbers.every((number, index) => number === index + 1),
    'events arrive once each and in order',
  );
}
