// The nvme-cli differential test (issue 15): two controllers of one QEMU spec, one left
// to the kernel nvme driver and read with nvme-cli (the host's /usr/sbin/nvme, reached
// through the guest's chroot of the host root), the other bound to vfio-pci and read with
// `phyr nvme`. id-ctrl, id-ns, smart-log and error-log JSON, and get-feature's lines, must
// agree field by field: the same keys in the same order, the same values, and the same
// text (json-c's layout) once the fields that differ by nature are set aside — each listed
// below with its reason.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { readPciDevice } from '../../../lib/sysfs/pci';
import { note, test } from '../harness';
// The twin pair of the tier's topology: the same QEMU spec, one left to the kernel's nvme
// driver, one bound to vfio-pci; QEMU gives them different serials (phyr-vm-N).
import { TWIN_KERNEL, TWIN_VFIO } from '../topology';

const PHYR = path.resolve(__dirname, '..', '..', '..', 'tools', 'phyr.js');
const NVME_CLI = '/usr/sbin/nvme';

/** Fields that differ between the twins by nature, per command, and why. */
const EXEMPT: Record<string, Record<string, string>> = {
  'id-ctrl': {
    sn: "QEMU's serial is per controller (phyr-vm-<index>)",
    subnqn: 'QEMU builds the subsystem NQN from the serial',
  },
  'id-ns': {
    eui64: 'QEMU numbers namespace EUI-64s from a counter across controllers',
    nguid: 'a namespace identifier, unique by definition',
  },
  'smart-log': {
    data_units_read: 'counts what each host read: the kernel probes partitions, phyr reads nothing',
    data_units_written: 'counts what each host wrote',
    host_read_commands: 'counts what each host sent',
    host_write_commands: 'counts what each host sent',
    controller_busy_time: 'time spent on each host\'s commands',
    power_on_hours: 'time since each controller was powered (same boot, different instants)',
    num_err_log_entries: 'counts the errors of each host\'s own commands',
  },
  'error-log': {
    error_count: 'entries of each host\'s own failed commands',
    sqid: 'entries of each host\'s own failed commands',
    cmdid: 'entries of each host\'s own failed commands',
    status_field: 'entries of each host\'s own failed commands',
    parm_error_location: 'entries of each host\'s own failed commands',
    lba: 'entries of each host\'s own failed commands',
    nsid: 'entries of each host\'s own failed commands',
  },
};

/** Get Features whose current value each host sets itself. */
const EXEMPT_FEATURES: Record<string, string> = {
  '0x07': 'Number of Queues: each driver asks for the IO queues it wants (the kernel one per CPU)',
  '0x0b': 'Async Event Configuration: the kernel enables the events it handles, phyr none',
  '0x0e': 'Timestamp: the time, set by the kernel at start-up',
};

function runOk(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

function kernelDevice(): string {
  const dir = `/sys/bus/pci/devices/${TWIN_KERNEL}/nvme`;
  const names = fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => /^nvme\d+$/.test(n)) : [];
  assert.equal(names.length, 1, `${TWIN_KERNEL} has no nvme character device (${dir})`);
  return `/dev/${names[0]}`;
}

/** Replaces the value of each exempt key in json-c's text with a marker, keeping the layout. */
function maskText(text: string, exempt: Record<string, string>): string {
  let out = text;
  for (const key of Object.keys(exempt)) out = out.replace(new RegExp(`^(\\s*"${key}":)(?:"[^"]*"|-?\\d+)(,?)$`, 'gm'), '$1<exempt>$2');
  return out;
}

/** Walks both values: the same keys in the same order, the same values outside `exempt`. */
function compare(a: unknown, b: unknown, exempt: Record<string, string>, at: string, diffs: string[]): void {
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) diffs.push(`${at}: ${a.length} entries from nvme-cli, ${b.length} from phyr`);
    for (let i = 0; i < Math.min(a.length, b.length); i++) compare(a[i], b[i], exempt, `${at}[${i}]`, diffs);
    return;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.join(',') !== kb.join(',')) diffs.push(`${at}: keys differ\n  nvme-cli: ${ka.join(' ')}\n  phyr:     ${kb.join(' ')}`);
    for (const k of ka) if (k in (b as object) && !(k in exempt)) compare((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], exempt, `${at}.${k}`, diffs);
    return;
  }
  if (a !== b) diffs.push(`${at}: nvme-cli ${JSON.stringify(a)}, phyr ${JSON.stringify(b)}`);
}

function differential(command: string, cliArgs: string[], phyrArgs: string[]): void {
  const dev = kernelDevice();
  const cliText = runOk(NVME_CLI, [command, dev, ...cliArgs, '-o', 'json']);
  const phyrText = runOk(process.execPath, [PHYR, 'nvme', command, TWIN_VFIO, ...phyrArgs, '-o', 'json']);
  const exempt = EXEMPT[command] ?? {};
  const diffs: string[] = [];
  compare(JSON.parse(cliText), JSON.parse(phyrText), exempt, command, diffs);
  assert.deepEqual(diffs, [], `${command}: ${diffs.length} differences:\n${diffs.join('\n')}`);
  assert.equal(maskText(phyrText, exempt), maskText(cliText, exempt), `${command}: same fields, but json-c's text differs`);
  note(`${command}: ${Object.keys(JSON.parse(cliText)).length} top-level fields compared, exempt: ${Object.keys(exempt).join(', ') || 'none'}`);
}

test('nvme-cli: the twin pair is present, one controller with the kernel nvme driver, one with vfio-pci', () => {
  assert.ok(fs.existsSync(NVME_CLI), `${NVME_CLI} is missing on the host (apt-get install nvme-cli)`);
  assert.equal(readPciDevice(TWIN_KERNEL)?.driver, 'nvme', `${TWIN_KERNEL} must be the kernel's twin (--nvme size=64M,driver=nvme in slot 3)`);
  assert.equal(readPciDevice(TWIN_VFIO)?.driver, 'vfio-pci', `${TWIN_VFIO} must be phyr's twin (--nvme size=64M in slot 4)`);
  kernelDevice();
});

test('nvme-cli: id-ctrl JSON agrees field by field', () => differential('id-ctrl', [], []));
test('nvme-cli: id-ns JSON agrees field by field', () => differential('id-ns', ['-n', '1'], ['-n', '1']));
test('nvme-cli: smart-log JSON agrees field by field', () => differential('smart-log', [], []));
test('nvme-cli: error-log JSON agrees field by field', () => differential('error-log', [], []));

test('nvme-cli: id-ctrl and id-ns text (normal output) agree line by line', () => {
  const dev = kernelDevice();
  // The lines of the fields exempt above (serial, NQN, namespace identifiers) are masked.
  const mask = (text: string, keys: string[]): string[] => text.trimEnd().split('\n').map((l) => (keys.some((k) => l.startsWith(`${k.padEnd(l.indexOf(':') - 1)} :`)) ? l.replace(/: .*$/, ': <exempt>') : l));
  for (const [command, cli, phyr, keys] of [
    ['id-ctrl', [], [], ['sn', 'subnqn']],
    ['id-ns', ['-n', '1'], ['-n', '1'], ['eui64', 'nguid']],
  ] as const) {
    const a = mask(runOk(NVME_CLI, [command, dev, ...cli]), [...keys]);
    const b = mask(runOk(process.execPath, [PHYR, 'nvme', command, TWIN_VFIO, ...phyr]), [...keys]);
    assert.deepEqual(b, a, `${command} text`);
  }
});

test('nvme-cli: get-feature, every feature the controller reports, agrees line by line', () => {
  // nvme-cli 2.3 prints get-feature as text only (no JSON form): one line per feature that
  // the controller does not refuse with Invalid Field, then any data as a hex dump.
  // nvme-cli 2.3's own walk (no -f) stops at the first refusal: it skips Invalid Field only
  // when the status has no DNR bit, and QEMU sets DNR. So nvme-cli reads each FID with -f;
  // phyr's walk reads them all in one run.
  const dev = kernelDevice();
  const cli: string[] = [];
  for (let f = 1; f < 0x100; f++) {
    const r = spawnSync(NVME_CLI, ['get-feature', dev, '-f', String(f)], { encoding: 'utf8' });
    if (r.status === 0) cli.push(...r.stdout.trimEnd().split('\n'));
    // Not implemented (Invalid Field), or namespace-specific under NSID FFFFFFFFh (Invalid
    // Namespace): phyr's walk skips the same ones.
    else assert.match(r.stderr, /Invalid Field|Invalid Namespace/, `nvme get-feature -f ${f} exited ${r.status}: ${r.stderr}`);
  }
  assert.ok(cli.length > 0, 'nvme-cli read no feature');
  const phyr = runOk(process.execPath, [PHYR, 'nvme', 'get-feature', TWIN_VFIO]).trimEnd().split('\n');
  const fid = (line: string): string | undefined => /^get-feature:(0x[0-9a-f]+)/.exec(line)?.[1];
  // A feature's block: its line and the hex dump lines after it.
  const blocks = (lines: string[]): Array<[string, string[]]> => {
    const out: Array<[string, string[]]> = [];
    for (const l of lines) {
      const f = fid(l);
      if (f) out.push([f, [l]]);
      else out[out.length - 1]?.[1].push(l);
    }
    return out;
  };
  const a = blocks(cli);
  const b = blocks(phyr);
  assert.deepEqual(b.map(([f]) => f), a.map(([f]) => f), 'the same features, in the same order');
  for (let i = 0; i < a.length; i++) {
    const [f, lines] = a[i];
    if (EXEMPT_FEATURES[f]) {
      assert.equal(b[i][1][0].replace(/value:\S+$/, ''), lines[0].replace(/value:\S+$/, ''), `${f}: the same line but for its value`);
      assert.equal(b[i][1].length, lines.length, `${f}: the same data size`);
    } else assert.deepEqual(b[i][1], lines, `feature ${f}`);
  }
  note(`get-feature: ${a.length} features compared (${a.map(([f]) => f).join(' ')}), values exempt: ${Object.keys(EXEMPT_FEATURES).join(' ')}`);
});
