// phyr bench of the built CLI (dist/tools/phyr.js), fed bad arguments as a careless user
// would (the other subcommands: cli-bad-input.test.ts): wrong types, huge, fractional and negative numbers, empty values, unknown
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
// A block device to name as an output (never opened: the check refuses it on stat).
const blockDevice = fs.readdirSync('/dev').map((d) => `/dev/${d}`).find((d) => {
  try {
    return fs.statSync(d).isBlockDevice();
  } catch {
    return false;
  }
});

const NO_DEVICE = '0000:99:00.0';

const rows: Row[] = [
  // bench: options
  { args: ['bench', '--bogus'], says: /unknown option 'bogus'/ },
  { args: ['bench', '-x'], says: /unknown option '-x'/ },
  { args: ['bench', '--rw'], says: /--rw=: a value is required/ },
  { args: ['bench', '--rw='], says: /--rw=: a value is required/ },
  { args: ['bench', '--rw=bogus'], says: /--rw=bogus: expected read, write/ },
  { args: ['bench', '--write_iolog=/proc/self/mem', '--name=j'], says: /--write_iolog \(job 'j'\).*\/proc/ },
  { args: ['bench', '--write_iolog=/dev/zero', '--name=j'], says: /--write_iolog \(job 'j'\)/ },
  { args: ['bench', '--rw=randread:4k'], says: /--rw=randread:4k: in a random mode N is a count of IOs/ },
  { args: ['bench', '--rw_sequencer=same'], says: /--rw_sequencer=same: expected sequential or identical/ },
  { args: ['bench', '--random_generator=mt'], says: /--random_generator=mt: expected tausworthe, lfsr or tausworthe64/ },
  { args: ['bench', '--iodepth=0'], says: /--iodepth=0: must be between 1 and 65535/ },
  { args: ['bench', '--iodepth=-1'], says: /--iodepth=-1: must not be negative/ },
  { args: ['bench', '--iodepth=1.5'], says: /--iodepth=1\.5: fractions are not accepted/ },
  { args: ['bench', '--iodepth=99999999999999999999'], says: /must be between 1 and 65535/ },
  { args: ['bench', '--iodepth=abc'], says: /--iodepth=abc: expected a plain integer/ },
  { args: ['bench', '--iodepth=4k'], says: /--iodepth=4k: expected a plain integer/ },
  { args: ['bench', '--iodepth=65535', '--runtime=1'], says: /iodepth=65535 is beyond the queue size/ },
  { args: ['bench', '--bs=0'], says: /--bs=0: a block size must be positive/ },
  { args: ['bench', '--bs=3'], says: /bs=3B is not a multiple of the namespace's LBA size/ },
  { args: ['bench', '--bs=1p'], says: /is larger than the region/ },
  { args: ['bench', '--bs=-4k'], says: /--bs=-4k: must not be negative/ },
  { args: ['bench', '--bs=4.5k'], says: /--bs=4\.5k: fractions are not accepted/ },
  { args: ['bench', '--bs=4q'], says: /unknown size suffix 'q'/ },
  { args: ['bench', '--bs=4k,8k,16k,32k'], says: /give one value, or READ,WRITE\[,TRIM\]/ },
  { args: ['bench', '--bsrange=4k'], says: /expected MIN-MAX/ },
  { args: ['bench', '--bssplit=4k/60:8k/60'], says: /percentages add up to 120/ },
  { args: ['bench', '--size=99999999999999p'], says: /the size is too large/ },
  { args: ['bench', '--size=101%'], says: /a percentage must be 0\.\.100/ },
  { args: ['bench', '--size=0'], says: /./ },
  { args: ['bench', '--offset=99999999999', '--runtime=1'], says: /offset=99999999999 is not a multiple of the LBA size/ },
  { args: ['bench', '--runtime=99999999999999999999'], says: /the time is too long/ },
  { args: ['bench', '--runtime=-1'], says: /--runtime=-1: must not be negative/ },
  { args: ['bench', '--runtime=1.5'], says: /fractions are not accepted \(use a smaller unit: 1500ms, not 1\.5s\)/ },
  { args: ['bench', '--runtime=abc'], says: /expected a whole number with an optional time unit/ },
  { args: ['bench', '--runtime=5parsecs'], says: /unknown time unit 'parsecs'/ },
  { args: ['bench', '--ramp_time=1'], says: /ramp_time needs a runtime/ },
  { args: ['bench', '--time_based'], says: /time_based needs a runtime/ },
  { args: ['bench', '--time_based=maybe'], says: /--time_based=maybe: expected 0 or 1/ },
  { args: ['bench', '--numjobs=0'], says: /--numjobs=0: must be between 1 and 256/ },
  { args: ['bench', '--numjobs=257'], says: /--numjobs=257: must be between 1 and 256/ },
  { args: ['bench', '--nsid=0'], says: /--nsid=0: must be between 1 and 4294967294/ },
  { args: ['bench', '--nsid=2', '--runtime=1'], says: /--nsid=2: namespace 2 is not active on this controller \(active: 1\)/ },
  { args: ['bench', '--rwmixread=101'], says: /--rwmixread=101: must be between 0 and 100/ },
  { args: ['bench', '--randseed=-1'], says: /--randseed=-1: must not be negative/ },
  { args: ['bench', '--random_distribution=zipf:1'], says: /zipf theta must be > 0 and not 1/ },
  { args: ['bench', '--random_distribution=normal:100'], says: /normal deviation must be 0 <= dev < 100/ },
  { args: ['bench', '--random_distribution=zipf:1e400'], says: /theta '1e400' is not a number/ },
  { args: ['bench', '--random_distribution=zipf:2e6'], says: /at most 1000000/ },
  { args: ['bench', '--read_iolog=/dev/zero'], says: /read_iolog '\/dev\/zero': is a character device; a read_iolog must be a regular file/ },
  { args: ['bench', '--percentile_list=0'], says: /'0' is not a percentile/ },
  { args: ['bench', '--verify=crc99'], says: /phyr verifies with crc32c/ },
  { args: ['bench', '--verify_backlog=abc'], says: /--verify_backlog=abc: / },
  { args: ['bench', '--verify=crc32c', '--verify_backlog=2m'], says: /--verify_backlog=2m: at most 1048576/ },
  { args: ['bench', '--verify=crc32c', '--rw=write', '--verify_interval=3k', '--runtime=1'], says: /verify_interval=3KiB does not divide the block size 4KiB/ },
  { args: ['bench', '--verify=crc32c', '--rw=write', '--verify_offset=8', '--runtime=1'], says: /verify_offset=8 must leave room for the 48-byte header/ },
  { args: ['bench', '--trim_percentage=10'], says: /trim verification is not implemented/ },
  { args: ['bench', '--direct=maybe'], says: /--direct=maybe: expected 0 or 1/ },
  { args: ['bench', '--ioengine=cpuio'], says: /a CPU-burning engine, no IO; phyr's loop only stands in for block-IO engines/ },
  { args: ['bench', '--mem=bogus'], says: /--mem=bogus: expected pool, cmb, p2p:BDF/ },
  { args: ['bench', '--mem=cmb', '--runtime=1'], says: /--mem=cmb: .*use --mem=pool/ },
  { args: ['bench', '--dptr=bogus'], says: /--dptr=bogus: expected prp, sgl or auto/ },
  { args: ['bench', '--dptr=sgl', '--runtime=1'], says: /--dptr=sgl needs a controller with SGL support/ },
  { args: ['bench', '--shadow-doorbells=maybe'], says: /--shadow-doorbells=maybe: expected on or off/ },
  { args: ['bench', '--zonemode=zbd'], says: /fio option 'zonemode' is not supported/ },
  { args: ['bench', '--filename=/dev/sda'], says: /--filename=\/dev\/sda: phyr drives an NVMe namespace, not a file/ },
  { args: ['bench', '--output-format=xml'], says: /expected normal, json, json\+ or terse/ },
  { args: ['bench', '--terse-version=2'], says: /--terse-version=2: phyr writes terse version 3 only/ },
  { args: ['bench', '--status-interval=-1'], says: /--status-interval=-1: must not be negative/ },
  { args: ['bench', '--eta=sometimes'], says: /--eta=sometimes: expected auto, always or never/ },
  // bench: the per-command timeout
  { args: ['bench', '--cmd_timeout=0'], says: /--cmd_timeout=0: must be between 1ms and 1h/ },
  { args: ['bench', '--cmd_timeout=500us'], says: /--cmd_timeout=500us: must be between 1ms and 1h/ },
  { args: ['bench', '--cmd_timeout=2h'], says: /--cmd_timeout=2h: must be between 1ms and 1h/ },
  { args: ['bench', '--cmd_timeout=-1'], says: /--cmd_timeout=-1: must not be negative/ },
  { args: ['bench', '--cmd_timeout=0.5'], says: /fractions are not accepted/ },
  { args: ['bench', '--cmd_timeout=abc'], says: /expected a whole number with an optional time unit/ },
  { args: ['bench', '--cmd_timeout='], says: /--cmd[-_]timeout=: a value is required/ },
  { args: ['bench', '--cmd-timeout'], says: /--cmd[-_]timeout=: a value is required/ },
  // bench: targets
  { args: ['bench', 'emu:bogus=1'], says: /unknown key 'bogus'/ },
  { args: ['bench', 'emu:size=0'], says: /size=0: must be a non-zero multiple of the LBA size/ },
  { args: ['bench', 'emu:faults=bogus'], says: /fault 'bogus'/ },
  { args: ['bench', NO_DEVICE, '--runtime=1'], says: /there is no PCI device 0000:99:00\.0/ },
  { args: ['bench', 'nonexistent.fio'], says: /'nonexistent\.fio' is neither a target .* nor a job file/ },
  { args: ['bench', 'emu', 'nonexistent.fio'], says: /'nonexistent\.fio' is not a job file/ },
  // bench: job files
  { args: ['bench', '/dev/zero'], says: /job file '\/dev\/zero': is a character device; a job file must be a regular file/ },
  { args: ['bench', '/dev/null'], says: /job file '\/dev\/null': is a character device/ },
  { args: ['bench', f('fifo')], says: /is a FIFO \(named pipe\); a job file must be a regular file/ },
  { args: ['bench', f('dir')], says: /is a directory; a job file must be a regular file/ },
  { args: ['bench', f('big.fio')], says: /a job file may be at most 1048576 bytes \(1024 KiB\)/ },
  { args: ['bench', f('nul.fio')], says: /is not a text file \(it contains NUL bytes\)/ },
  { args: ['bench', '/proc/self/mem'], says: /job file '\/proc\/self\/mem': is under \/proc, a kernel interface/ },
  { args: ['bench', '/proc/version'], says: /is under \/proc, a kernel interface/ },
  { args: ['bench', '/proc/self/pagemap'], says: /is under \/proc, a kernel interface/ },
  { args: ['bench', '/sys/kernel/mm/transparent_hugepage/enabled'], says: /is under \/sys, a kernel interface/ },
  { args: ['bench', '/dev/fd/0'], says: /job file '\/dev\/fd\/0'/ },
  { args: ['bench', f('include.fio')], says: /include.fio:1: include missing\.fio: no such file/ },
  { args: ['bench', f('global-only.fio')], says: /no job sections \(only \[global\]\)/ },
  { args: ['bench', f('bad-rw.fio')], says: /--rw=sideways/ },
  { args: ['bench', f('run-opt.fio')], says: /'output' is a command-line option/ },
  // bench: --output
  { args: ['bench', '--output'], says: /--output=: a value is required/ },
  { args: ['bench', '--output='], says: /--output=: a value is required/ },
  { args: ['bench', `--output=${f('dir')}`], says: /--output '.*dir': is a directory; give a file name/ },
  { args: ['bench', `--output=${f('fifo')}`], says: /is a FIFO \(named pipe\), not a regular file/ },
  { args: ['bench', '--output=/dev/zero'], says: /is a character device, not a regular file/ },
  { args: ['bench', '--output=/dev/sdzz9'], says: /is under \/dev, the device nodes/ },
  { args: ['bench', '--output=/proc/self/mem'], says: /is under \/proc, a kernel interface/ },
  { args: ['bench', '--output=/sys/kernel/r.txt'], says: /is under \/sys, a kernel interface/ },
  { args: ['bench', `--output=${path.join(f('nodir'), 'r.txt')}`], says: /its directory .*nodir does not exist/ },
  { args: ['bench', `--output=${path.join(f('plain'), 'r.txt')}`], says: /a component of the path is not a directory/ },
  { args: ['bench', imageTarget, `--output=${f('disk.img')}`], says: /--output '.*disk\.img': is the disk image under test \(backend=file:/ },
  { args: ['bench', f('ok.fio'), `--output=${f('ok.fio')}`], says: /is the job file .*ok\.fio; the report would overwrite it/ },
  ...(blockDevice ? [{ args: ['bench', `--output=${blockDevice}`], says: /is a block device; a report written there would overwrite the disk/ }] : []),
];

t.before(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build:ts first`);
});

t.test(`${rows.length} bad command lines: clear message, exit 2, no stack trace, no hang`, async (t) => {
  await checkRows(t, rows, LIMIT_MS, emptyBin);
  t.equal(fs.readFileSync(f('disk.img')).every((b) => b === 0x5a), true, 'the image under test is untouched');
  t.equal(fs.readFileSync(f('ok.fio'), 'utf8'), '[j]\nrw=read\nbs=4k\nsize=1m\n', 'the job file is untouched');
});
