// The wait before each reset attempt of a recovery (drivers/nvme/options.ts): doubling
// from backoffMs, capped at 64 × backoffMs so a large attempts value cannot wait for ever.
import t from 'tap';
import { recoveryBackoffMs } from '../../drivers/nvme/options';

t.test('attempt 1 waits nothing; then backoffMs doubling', async (t) => {
  t.same([1, 2, 3, 4, 5].map((n) => recoveryBackoffMs(50, n)), [0, 50, 100, 200, 400]);
});

t.test('the doubling stops at 64 × backoffMs', async (t) => {
  t.equal(recoveryBackoffMs(50, 8), 3200, 'attempt 8: 2^6');
  t.equal(recoveryBackoffMs(50, 9), 3200, 'attempt 9: still 2^6');
  t.equal(recoveryBackoffMs(50, 100), 3200, 'attempt 100 (the largest allowed)');
  const total = Array.from({ length: 100 }, (_, i) => recoveryBackoffMs(10, i + 1)).reduce((a, b) => a + b, 0);
  t.ok(total < 100 * 640, `100 attempts at backoffMs 10 wait ${total} ms in all, not 2^98 × 10`);
  t.equal(recoveryBackoffMs(0, 50), 0, 'backoffMs 0: no waits');
});
