// Every subcommand of the built CLI (dist/tools/phyr.js), fed bad arguments as a careless
// user would: wrong types, huge, fractional and negative numbers, empty values, unknown
// options, missing values, paths in /proc and /sys, FIFOs, devices, directories. Each row
// runs in its own process with a short time limit and must end with a clear message on
// stderr and exit status 2: never a stack trace, never a hang, never a run that starts.
//
// Rows that an older CLI would have acted on (reserving hugepages, booting QEMU) are
// written so that acting is harmless: setup rows carry --dry-run, and PATH is empty so no
// QEMU can be found.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { CLI, checkRows, cliFixtures, type Row } from '../helpers/cli-rows';

const LIMIT_MS = 15_000;

const { f, emptyBin, imageTarget } = cliFixtures(t);

const NO_DEVICE = '0000:99:00.0';

const rows: Row[] = [
  // phyr itself
  { args: [], says: /usage: phyr COMMAND/ },
  { args: [''], says: /usage: phyr COMMAND/ },
  { args: ['bogus'], says: /unknown command 'bogus'/ },
  { args: ['--bogus'], says: /unknown command '--bogus'/ },
  { args: ['BENCH'], says: /unknown command 'BENCH'/ },

  // serve (every row is refused before a controller is brought up)
  { args: ['serve'], says: /phyr serve: give --socket PATH .*--listen tcp:\/\/ADDR\[:PORT\]/ },
  { args: ['serve', '--listen', 'udp://127.0.0.1'], says: /only the tcp:\/\/ transport is served/ },
  { args: ['serve', '--listen', 'tcp://1.2.3'], says: /1\.2\.3 is not an IPv4 or IPv6 address/ },
  { args: ['serve', '--listen', 'tcp://[127.0.0.1]'], says: /brackets hold an IPv6 address/ },
  { args: ['serve', '--listen', 'tcp://127.0.0.1:70000'], says: /port 70000 is outside 0\.\.65535/ },
  { args: ['serve', '--listen', 'tcp://127.0.0.1', '--subnqn', 'subsystem-1'], says: /--subnqn subsystem-1: an NQN starts with "nqn\."/ },
  { args: ['serve', '--listen', 'tcp://127.0.0.1', '--allow-host', `nqn.${'x'.repeat(230)}`], says: /holds at most 223 bytes/ },
  { args: ['serve', '--listen', 'tcp://127.0.0.1', '--allow-any-host', '--allow-host', 'nqn.2014-08.org.nvmexpress:uuid:1'], says: /exclude each other/ },
  { args: ['serve', '--allow-host', 'nqn.2014-08.org.nvmexpress:uuid:1', '--socket', '/tmp/phyr-never.sock'], says: /need --listen/ },
  { args: ['serve', '--socket'], says: /phyr serve: Option '--socket <value>' argument missing/ },
  { args: ['serve', '--socket', '/tmp'], says: /phyr serve: \/tmp exists; remove it/ },
  { args: ['serve', '--socket', '/nonexistent-phyr-dir/s.sock'], says: /\/nonexistent-phyr-dir is not a directory/ },
  { args: ['serve', '--socket', `/tmp/${'x'.repeat(120)}`], says: /a Unix socket path holds at most 107/ },
  { args: ['serve', NO_DEVICE, '--socket', '/tmp/phyr-never.sock'], says: /there is no PCI device 0000:99:00\.0/ },
  { args: ['serve', 'emu:shared=off', '--socket', '/tmp/phyr-never.sock'], says: /needs shared=on/ },
  { args: ['serve', 'emu:size=1Q', '--socket', '/tmp/phyr-never.sock'], says: /size/ },
  { args: ['serve', 'emu', 'emu', '--socket', '/tmp/phyr-never.sock'], says: /one TARGET at most/ },
  { args: ['serve', '--socket', '/tmp/phyr-never.sock', '--group', 'no-such-group-phyr'], says: /--group no-such-group-phyr: no such group/ },
  { args: ['serve', '--bogus'], says: /phyr serve: Unknown option '--bogus'/ },

  // list
  { args: ['list', '--bogus'], says: /phyr list: Unknown option '--bogus'/ },
  { args: ['list', 'extra'], says: /phyr list: Unexpected argument 'extra'/ },
  { args: ['list', '--json=1'], says: /phyr list: Option '--json' does not take an argument/ },
  { args: ['list', '-x'], says: /phyr list: Unknown option '-x'/ },

  // identify
  { args: ['identify', '--ns'], says: /phyr identify: Option '--ns <value>' argument missing/ },
  { args: ['identify', '--ns', '0'], says: /--ns needs a namespace id in 1\.\.4294967294, got '0'/ },
  { args: ['identify', '--ns', '-1'], says: /phyr identify: Option '--ns' argument is ambiguous/ },
  { args: ['identify', '--ns=-1'], says: /--ns needs a namespace id .* got '-1'/ },
  { args: ['identify', '--ns', '1.5'], says: /got '1\.5'/ },
  { args: ['identify', '--ns', '1e3'], says: /got '1e3'/ },
  { args: ['identify', '--ns', '0x10'], says: /got '0x10'/ },
  { args: ['identify', '--ns', '99999999999999999999'], says: /got '99999999999999999999'/ },
  { args: ['identify', '--ns', ''], says: /got ''/ },
  { args: ['identify', '--ns', 'one'], says: /got 'one'/ },
  { args: ['identify', 'bogus'], says: /'bogus' is not a target/ },
  { args: ['identify', ''], says: /'' is not a target/ },
  { args: ['identify', '/proc/self/mem'], says: /'\/proc\/self\/mem' is not a target/ },
  { args: ['identify', 'emu:size=abc'], says: /size=abc: expected a byte count/ },
  { args: ['identify', 'emu:bogus=1'], says: /unknown key 'bogus'/ },
  { args: ['identify', NO_DEVICE], says: /there is no PCI device 0000:99:00\.0/ },
  { args: ['identify', 'a', 'b'], says: /one TARGET at most/ },
  { args: ['identify', '--bogus'], says: /Unknown option '--bogus'/ },

  // setup (--dry-run: an accepted row would change nothing)
  { args: ['setup', '--bogus'], says: /phyr setup: Unknown option '--bogus'/ },
  { args: ['setup', '--hugepages'], says: /Option '--hugepages <value>' argument missing/ },
  { args: ['setup', '--dry-run', '--hugepages=-1'], says: /--hugepages '-1' must be a non-negative integer/ },
  { args: ['setup', '--dry-run', '--hugepages', '1.5'], says: /--hugepages '1\.5' must be a non-negative integer/ },
  { args: ['setup', '--dry-run', '--hugepages', 'abc'], says: /--hugepages 'abc' must be a non-negative integer/ },
  { args: ['setup', '--dry-run', '--hugepages', ''], says: /--hugepages '' must be a non-negative integer/ },
  { args: ['setup', '--dry-run', '--hugepages', '1e3'], says: /--hugepages '1e3' must be a non-negative integer/ },
  { args: ['setup', '--dry-run', '--hugepages', '99999999999999999999'], says: /is more than this machine's memory holds/ },
  { args: ['setup', '--dry-run', '--hugepages', '9007199254740991'], says: /is more than this machine's memory holds/ },
  { args: ['setup', '--dry-run', '--bind'], says: /Option '--bind <value>' argument missing/ },
  { args: ['setup', '--dry-run', '--bind', ''], says: /'' is not a target/ },
  { args: ['setup', '--dry-run', '--bind', 'bogus'], says: /'bogus' is not a target/ },
  { args: ['setup', '--dry-run', '--bind', 'emu'], says: /'emu' is not a PCI address/ },
  { args: ['setup', '--dry-run', '--bind', NO_DEVICE], says: /there is no PCI device 0000:99:00\.0/ },
  { args: ['setup', '--dry-run', '--hugepages', '1', '--bind', 'bogus'], says: /'bogus' is not a target/ },
  { args: ['setup', '--dry-run', '--reset', 'bogus'], says: /'bogus' is not a target/ },
  { args: ['setup', 'extra'], says: /unexpected argument 'extra'/ },
  { args: ['setup', '--status=1'], says: /Option '--status' does not take an argument/ },

  // vm (PATH is empty: no QEMU could start even if a row were accepted)
  { args: ['vm'], says: /phyr vm: no command given/ },
  { args: ['vm', '--bogus', '--', 'true'], says: /Unknown option '--bogus'/ },
  { args: ['vm', '--timeout'], says: /Option '--timeout <value>' argument missing/ },
  { args: ['vm', '--timeout', '0', '--', 'true'], says: /--timeout '0' must be an integer from 1 to 86400/ },
  { args: ['vm', '--timeout=-5', '--', 'true'], says: /--timeout '-5' must be an integer/ },
  { args: ['vm', '--timeout', '1.5', '--', 'true'], says: /--timeout '1\.5' must be an integer/ },
  { args: ['vm', '--timeout', '99999999999', '--', 'true'], says: /--timeout '99999999999' must be an integer from 1 to 86400/ },
  { args: ['vm', '--memory', 'abc', '--', 'true'], says: /--memory 'abc' must be an integer from 128/ },
  { args: ['vm', '--memory', '99999999', '--', 'true'], says: /--memory '99999999' must be an integer/ },
  { args: ['vm', '--memory', '', '--', 'true'], says: /--memory '' must be an integer/ },
  { args: ['vm', '--cpus', '0', '--', 'true'], says: /--cpus '0' must be an integer from 1 to 256/ },
  { args: ['vm', '--cpus', '1.5', '--', 'true'], says: /--cpus '1\.5'/ },
  { args: ['vm', '--cpus', '100000', '--', 'true'], says: /--cpus '100000'/ },
  { args: ['vm', '--hugepages', '99999', '--', 'true'], says: /--hugepages '99999' must be an integer from 0 to 512/ },
  { args: ['vm', '--hugepages=-1', '--', 'true'], says: /--hugepages '-1'/ },
  { args: ['vm', '--accel', 'xen', '--', 'true'], says: /--accel 'xen' must be tcg or kvm/ },
  { args: ['vm', '--accel', '', '--', 'true'], says: /--accel '' must be tcg or kvm/ },
  { args: ['vm', '--nvme', 'bogus', '--', 'true'], says: /unknown --nvme key 'bogus'/ },
  { args: ['vm', '--nvme', 'size=abc', '--', 'true'], says: /size 'abc' is not a size/ },
  { args: ['vm', '--nvme', 'size=0', '--', 'true'], says: /size 0 must be a non-zero multiple of 4 KiB/ },
  { args: ['vm', '--nvme', 'ns=0', '--', 'true'], says: /ns '0' must be an integer/ },
  { args: ['vm', '--nvme', '', '--', 'true'], says: /--nvme '' is empty/ },

  // validate
  { args: ['validate', '--bogus'], says: /phyr validate: Unknown option '--bogus'/ },
  { args: ['validate', '--nsid'], says: /Option '--nsid <value>' argument missing/ },
  { args: ['validate', '--nsid', '0'], says: /--nsid must be an integer from 1 to 4294967294, not '0'/ },
  { args: ['validate', '--nsid=-1'], says: /--nsid must be an integer .* not '-1'/ },
  { args: ['validate', '--nsid', '1.5'], says: /not '1\.5'/ },
  { args: ['validate', '--nsid', '99999999999999999999'], says: /not '99999999999999999999'/ },
  { args: ['validate', '--nsid', ''], says: /not ''/ },
  { args: ['validate', '--nsid', '7', '--suite', 'registers'], says: /--nsid 7: namespace 7 is not active/ },
  { args: ['validate', '--timeout', '0'], says: /--timeout must be an integer from 1 to 3600, not '0'/ },
  { args: ['validate', '--timeout', '1.5'], says: /not '1\.5'/ },
  { args: ['validate', '--timeout', '99999'], says: /not '99999'/ },
  { args: ['validate', '--timeout=-3'], says: /not '-3'/ },
  { args: ['validate', '--suite'], says: /Option '--suite <value>' argument missing/ },
  { args: ['validate', '--suite', ''], says: /--suite needs at least one suite name/ },
  { args: ['validate', '--suite', 'bogus'], says: /unknown suite 'bogus'/ },
  { args: ['validate', '--case', ''], says: /an empty --case pattern selects nothing/ },
  { args: ['validate', '--case', 'zz*'], says: /--case 'zz\*' matches no case/ },
  { args: ['validate', 'bogus'], says: /'bogus' is not a target/ },
  { args: ['validate', 'emu:bogus=1'], says: /unknown key 'bogus'/ },
  { args: ['validate', NO_DEVICE], says: /there is no PCI device 0000:99:00\.0/ },
  { args: ['validate', 'a', 'b'], says: /one TARGET at most/ },
  { args: ['validate', '--peer', 'bogus'], says: /'bogus' is not a target/ },
  { args: ['validate', '--peer', ''], says: /'' is not a target/ },
  { args: ['validate', '--destructive'], says: /refusing the destructive run/ },
  { args: ['validate', '--junit'], says: /Option '--junit <value>' argument missing/ },
  { args: ['validate', '--junit', ''], says: /--junit '': an empty path/ },
  { args: ['validate', '--junit', f('dir')], says: /is a directory; give a file name/ },
  { args: ['validate', '--json', '/proc/version'], says: /is under \/proc, a kernel interface/ },
  { args: ['validate', '--json', '/proc/self/mem'], says: /is under \/proc, a kernel interface/ },
  { args: ['validate', '--html', '/sys/kernel/report.html'], says: /is under \/sys, a kernel interface/ },
  { args: ['validate', '--html', f('fifo')], says: /is a FIFO \(named pipe\)/ },
  { args: ['validate', '--html', '/dev/zero'], says: /is a character device/ },
  { args: ['validate', '--json', path.join(f('plain'), 'r.json')], says: /a component of the path is not a directory/ },
  { args: ['validate', '--junit', f('same'), '--html', f('same')], says: /--junit and --html name the same file/ },
  { args: ['validate', imageTarget, '--json', f('disk.img')], says: /is the disk image under test/ },

];

t.before(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build:ts first`);
});

t.test(`${rows.length} bad command lines: clear message, exit 2, no stack trace, no hang`, async (t) => {
  await checkRows(t, rows, LIMIT_MS, emptyBin);
  t.equal(fs.readFileSync(f('disk.img')).every((b) => b === 0x5a), true, 'the image under test is untouched');
});
