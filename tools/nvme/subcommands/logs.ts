// smart-log, error-log, fw-log, get-log: Get Log Page (NVMe 1.4 §5.14) with LID 02h, 01h,
// 03h, or any LID.
import { NVME } from '../../../spec/nvme';
import { statusName, decodeStatus } from '../../../drivers/nvme';
import { NvmeUsageError, outputFormatOption } from '../args';
import { cHex } from '../hex';
import { jsonC } from '../json-c';
import { Bytes } from '../layout';
import { hexDump } from '../normal';
import { ERROR_ENTRY_SIZE, errorLogJson } from '../structures/error-log';
import { FW_LOG_SIZE, firmwareSlots, fwLogJson } from '../structures/fw-log';
import { SMART_LOG_SIZE, TEMP_SENSOR_OFFSET, smartLogJson } from '../structures/smart-log';
import { NAMESPACE_OPTION, RAW_OPTION, num, type Subcommand } from '../subcommand';

const ALL_NAMESPACES = 0xffffffff;

// Kelvin to Celsius as nvme-cli's kelvin_to_celsius (273.15 rounded down to 273).
const celsius = (k: number): number => k - 273;

function smartText(data: Uint8Array, nsid: number, device: string, human: boolean): string {
  const b = new Bytes(data);
  const cw = b.u8(0);
  const u128 = (o: number): string => b.u128(o).toString();
  // Data units are 1000 units of 512 bytes (§5.14.1.2); nvme-cli adds an SI size.
  const si = (o: number): string => {
    const bytes = Number(b.u128(o)) * 512000;
    const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
    let v = bytes;
    let i = 0;
    while (v >= 1000 && i < units.length - 1) {
      v /= 1000;
      i++;
    }
    return `${v.toFixed(2)} ${units[i]}`;
  };
  const t = b.u16(1);
  const out = [`Smart Log for NVME device:${device} namespace-id:${nsid.toString(16)}`, `critical_warning\t\t\t: ${cHex(cw)}`];
  if (human) {
    const names = ['Available Spare[0]             ', 'Temp. Threshold[1]             ', 'NVM subsystem Reliability[2]   ', 'Read-only[3]                   ', 'Volatile mem. backup failed[4] ', 'Persistent Mem. RO[5]          '];
    names.forEach((n, bit) => out.push(`      ${n}: ${(cw >> bit) & 1}`));
  }
  out.push(
    `temperature\t\t\t\t: ${celsius(t)}°C (${t} Kelvin)`,
    `available_spare\t\t\t\t: ${b.u8(3)}%`,
    `available_spare_threshold\t\t: ${b.u8(4)}%`,
    `percentage_used\t\t\t\t: ${b.u8(5)}%`,
    `endurance group critical warning summary: ${cHex(b.u8(6))}`,
    `Data Units Read\t\t\t\t: ${u128(32)} (${si(32)})`,
    `Data Units Written\t\t\t: ${u128(48)} (${si(48)})`,
    `host_read_commands\t\t\t: ${u128(64)}`,
    `host_write_commands\t\t\t: ${u128(80)}`,
    `controller_busy_time\t\t\t: ${u128(96)}`,
    `power_cycles\t\t\t\t: ${u128(112)}`,
    `power_on_hours\t\t\t\t: ${u128(128)}`,
    `unsafe_shutdowns\t\t\t: ${u128(144)}`,
    `media_errors\t\t\t\t: ${u128(160)}`,
    `num_err_log_entries\t\t\t: ${u128(176)}`,
    `Warning Temperature Time\t\t: ${b.u32(192)}`,
    `Critical Composite Temperature Time\t: ${b.u32(196)}`,
  );
  for (let i = 0; i < 8; i++) {
    const s = b.u16(TEMP_SENSOR_OFFSET + 2 * i);
    if (s) out.push(`Temperature Sensor ${i + 1}           : ${celsius(s)}°C (${s} Kelvin)`);
  }
  out.push(
    `Thermal Management T1 Trans Count\t: ${b.u32(216)}`,
    `Thermal Management T2 Trans Count\t: ${b.u32(220)}`,
    `Thermal Management T1 Total Time\t: ${b.u32(224)}`,
    `Thermal Management T2 Total Time\t: ${b.u32(228)}`,
  );
  return out.join('\n');
}

function errorText(data: Uint8Array, entries: number, device: string): string {
  const out = [`Error Log Entries for device:${device} entries:${entries}`, '.................'];
  for (let i = 0; i < entries; i++) {
    const b = new Bytes(data.subarray(i * ERROR_ENTRY_SIZE, (i + 1) * ERROR_ENTRY_SIZE));
    const status = b.u16(12) >> 1;
    const d = decodeStatus(status);
    out.push(
      ` Entry[${String(i).padStart(2)}]   `,
      '.................',
      `error_count\t: ${b.u64(0)}`,
      `sqid\t\t: ${b.u16(8)}`,
      `cmdid\t\t: ${cHex(b.u16(10))}`,
      `status_field\t: ${cHex(status)}(${status === 0 ? 'Successful Completion' : statusName(d.sct, d.sc)})`,
      `phase_tag\t: ${cHex(b.u16(12) & 1)}`,
      `parm_err_loc\t: ${cHex(b.u16(14))}`,
      `lba\t\t: ${cHex(b.u64(16))}`,
      `nsid\t\t: ${cHex(b.u32(24))}`,
      `vs\t\t: ${b.u8(28)}`,
      // nvme-cli names the transport type here; phyr prints its number (0: not indicated).
      `trtype\t\t: ${b.u8(29)}`,
      `cs\t\t: ${cHex(b.u64(32))}`,
      `trtype_spec_info: ${cHex(b.u16(40))}`,
      '.................',
    );
  }
  return out.join('\n');
}

export const smartLog: Subcommand = {
  name: 'smart-log',
  summary: "Retrieve SMART log for the given device (or optionally a namespace) in either decoded format (default) or binary.",
  options: [{ ...NAMESPACE_OPTION, help: '(optional) desired namespace' }, outputFormatOption(), RAW_OPTION, { long: 'human-readable', short: 'H', kind: 'flag', help: 'show info in readable format' }],
  async run(ctx) {
    const nsid = num(ctx.values, 'namespace-id') ?? ALL_NAMESPACES;
    const data = await ctx.dev.log(NVME.LOG_SMART, nsid, SMART_LOG_SIZE);
    const human = ctx.values['human-readable'] === true;
    if (ctx.format === 'binary') ctx.io.bytes(data);
    else ctx.io.out(ctx.format === 'json' ? jsonC(smartLogJson(data, human)) : smartText(data, nsid, ctx.dev.name, human));
    return 0;
  },
};

export const errorLog: Subcommand = {
  name: 'error-log',
  summary: 'Retrieve specified number of error log entries from a given device in either decoded format (default) or binary.',
  options: [{ long: 'log-entries', short: 'e', kind: 'u32', help: 'number of entries to retrieve' }, outputFormatOption(), RAW_OPTION],
  async run(ctx) {
    const asked = num(ctx.values, 'log-entries') ?? 64;
    if (asked === 0) throw new NvmeUsageError('non-zero log-entries is required param');
    // At most ELPE + 1 entries (Identify Controller byte 262, 0's based), as nvme-cli does.
    const entries = Math.min(asked, ctx.dev.ctrl.identify.elpe + 1);
    const data = await ctx.dev.log(NVME.LOG_ERROR, ALL_NAMESPACES, entries * ERROR_ENTRY_SIZE);
    if (ctx.format === 'binary') ctx.io.bytes(data);
    else ctx.io.out(ctx.format === 'json' ? jsonC(errorLogJson(data, entries)) : errorText(data, entries, ctx.dev.name));
    return 0;
  },
};

export const fwLog: Subcommand = {
  name: 'fw-log',
  summary: 'Retrieve the firmware log for the specified device in either decoded format (default) or binary.',
  options: [outputFormatOption(), RAW_OPTION],
  async run(ctx) {
    const data = await ctx.dev.log(NVME.LOG_FIRMWARE_SLOT, ALL_NAMESPACES, FW_LOG_SIZE);
    if (ctx.format === 'binary') ctx.io.bytes(data);
    else if (ctx.format === 'json') ctx.io.out(jsonC(fwLogJson(data, ctx.dev.name)));
    else {
      const out = [`Firmware Log for device:${ctx.dev.name}`, `afi  : ${cHex(data[0])}`];
      for (const s of firmwareSlots(data)) out.push(`frs${s.slot} : 0x${s.value.toString(16).padStart(14, '0')} (${s.text})`);
      ctx.io.out(out.join('\n'));
    }
    return 0;
  },
};

export const getLog: Subcommand = {
  name: 'get-log',
  summary: 'Retrieve desired number of bytes from a given log on a specified device in either hex-dump (default) or binary format.',
  options: [
    { ...NAMESPACE_OPTION, help: 'desired namespace' },
    { long: 'log-id', short: 'i', kind: 'u8', help: 'identifier of log to retrieve' },
    { long: 'log-len', short: 'l', kind: 'u32', help: 'how many bytes to retrieve' },
    { long: 'lpo', short: 'o', kind: 'u64', help: 'log page offset specifies the location within a log page from where to start returning data' },
    { long: 'lsp', short: 's', kind: 'u8', help: 'log specific field' },
    { long: 'rae', short: 'r', kind: 'flag', help: 'retain an asynchronous event' },
    RAW_OPTION,
  ],
  async run(ctx) {
    const lid = num(ctx.values, 'log-id');
    const len = num(ctx.values, 'log-len');
    if (lid === undefined) throw new NvmeUsageError('--log-id (-i) is required');
    if (!len) throw new NvmeUsageError('non-zero --log-len (-l) is required');
    if (len % 4 !== 0) throw new NvmeUsageError(`--log-len ${len} is not a multiple of 4 (Get Log Page transfers dwords)`);
    const lsp = num(ctx.values, 'lsp') ?? 0;
    if (lsp > 0xf) throw new NvmeUsageError(`--lsp ${lsp} does not fit its 4 bits`);
    const data = await ctx.dev.log(lid, num(ctx.values, 'namespace-id') ?? ALL_NAMESPACES, len, { lsp, rae: ctx.values.rae === true, offset: num(ctx.values, 'lpo') ?? 0 });
    if (ctx.values['raw-binary'] === true) ctx.io.bytes(data);
    else ctx.io.out(`Device:${ctx.dev.name} log-id:${lid} namespace-id:${cHex(num(ctx.values, 'namespace-id') ?? ALL_NAMESPACES)}\n${hexDump(data)}`);
    return 0;
  },
};
