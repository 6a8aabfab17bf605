import { describe, expect, it } from 'vitest';
import { Activity } from '../../src/lib/activity';

const after = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe('Activity', () => {
  it('is idle at once with nothing running, else when the last work settles', async () => {
    const activity = new Activity();
    await activity.idle();
    let finished = false;
    void activity.track(async () => {
      await after(30);
      finished = true;
    });
    await activity.idle();
    expect(finished).toBe(true);
  });

  it('is quiet only after `ms` with nothing running, from the call or from the end of work begun meanwhile', async () => {
    const activity = new Activity();
    const start = performance.now();
    await activity.quiet(60);
    expect(performance.now() - start).toBeGreaterThanOrEqual(59);

    let endedAt = 0;
    const quiet = activity.quiet(60).then(() => performance.now());
    await after(20);
    await activity.track(async () => {
      await after(50);
      endedAt = performance.now();
    });
    expect((await quiet) - endedAt).toBeGreaterThanOrEqual(59);
  });
});
