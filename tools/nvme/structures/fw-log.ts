// Firmware Slot Information log page (LID 03h, NVMe 1.4 §5.14.1.3, 512 bytes) as
// `nvme fw-log -o json` prints it (nvme-cli 2.3): one object named after the device.
import { JcObject } from '../json-c';
import { needBytes } from '../layout';

export const FW_LOG_SIZE = 512;
/** Firmware Revision for Slot n (n = 1..7) is 8 bytes at 8n. */
export const FRS_OFFSET = 8;

/** A revision's printable form: bytes outside '!'..'~' become '.' (nvme-cli's util_fw_to_string). */
export function fwText(rev: Uint8Array): string {
  let s = '';
  for (const c of rev) s += c >= 0x21 && c <= 0x7e ? String.fromCharCode(c) : '.';
  return s;
}

/** The slots with a revision (first byte nonzero): number 1..7, its 64-bit value and its text. */
export function firmwareSlots(data: Uint8Array): Array<{ slot: number; value: bigint; text: string }> {
  const b = needBytes(data, FW_LOG_SIZE, 'Firmware Slot log');
  const v = new DataView(b.b.buffer, b.b.byteOffset, b.b.byteLength);
  const out = [];
  for (let i = 0; i < 7; i++) {
    const o = FRS_OFFSET * (i + 1);
    if (data[o] === 0) continue;
    out.push({ slot: i + 1, value: v.getBigUint64(o, true), text: fwText(data.subarray(o, o + 8)) });
  }
  return out;
}

/** `nvme fw-log -o json`: { DEVICE: { "Active Firmware Slot (afi)": n, "Firmware Rev Slot n": "VALUE (TEXT)" } }. */
export function fwLogJson(data: Uint8Array, device: string): JcObject {
  const fwsi = new JcObject().add('Active Firmware Slot (afi)', needBytes(data, FW_LOG_SIZE, 'Firmware Slot log').u8(0));
  for (const s of firmwareSlots(data)) fwsi.add(`Firmware Rev Slot ${s.slot}`, `${s.value} (${s.text})`);
  return new JcObject().add(device, fwsi);
}
