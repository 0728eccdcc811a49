// `--listen` parsing and the default subsystem NQN (fabrics/listen.ts).
import t from 'tap';
import { checkNqn, defaultSubsystemNqn, parseListenAddress } from '../../fabrics/listen';

t.test('tcp:// addresses: IPv4, bracketed IPv6, the default port, loopback', async (t) => {
  t.same(parseListenAddress('tcp://127.0.0.1'), { host: '127.0.0.1', port: 4420, loopback: true }, 'the NVMe/TCP port by default');
  t.same(parseListenAddress('tcp://192.0.2.7:4421'), { host: '192.0.2.7', port: 4421, loopback: false });
  t.same(parseListenAddress('tcp://[::1]:0'), { host: '::1', port: 0, loopback: true }, 'port 0 picks one');
  t.same(parseListenAddress('tcp://[2001:db8::5]'), { host: '2001:db8::5', port: 4420, loopback: false });
  t.same(parseListenAddress('tcp://127.9.9.9:1'), { host: '127.9.9.9', port: 1, loopback: true }, 'all of 127/8 is loopback');
  for (const bad of ['127.0.0.1', 'tcp://', 'tcp://host.example:4420', 'tcp://::1', 'tcp://[::1', 'tcp://1.2.3.4:-1', 'tcp://1.2.3.4:65536', 'tcp://1.2.3.4:1.5', 'tcp://1.2.3.4:4420/x', 'rdma://1.2.3.4']) {
    t.throws(() => parseListenAddress(bad), { code: 'PHYR_SERVE_USAGE' }, `${bad} is refused`);
  }
});

t.test('the default subsystem NQN is a well-formed UUID NQN, stable per target', async (t) => {
  const a = defaultSubsystemNqn('emu');
  t.match(a, /^nqn\.2014-08\.org\.nvmexpress:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.equal(defaultSubsystemNqn('emu'), a, 'the same target gives the same NQN');
  t.not(defaultSubsystemNqn('0000:01:00.0'), a, 'another target another');
  t.equal(checkNqn('--subnqn', a), a, 'and it passes the NQN check');
  t.throws(() => checkNqn('--subnqn', 'nqn.' + 'x'.repeat(220)), { code: 'PHYR_SERVE_USAGE' }, '224 bytes is one too many');
});
