import assert from 'node:assert/strict';

/** Returns N of a frame whose message ends with ` EN`, the events that the drain tests send. */
export function eventNumber(frame: string): number {
  return Number(frame.slice(frame.lastIndexOf(' E') + 2));
}

/** Returns how often a number is smaller than the one before it. */
export function countDescents(numbers: readonly number[]): number {
  let descents = 0;
  for (let index = 1; index < numbers.length; index += 1) {
    if (numbers[index] < numbers[index - 1]) descents += 1;
  }
  return descents;
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
