// SMART / Health Information log page (LID 02h, NVMe 1.4 §5.14.1.2, 512 bytes): the fields
// and order of `nvme smart-log -o json` (nvme-cli 2.3).
import { JcObject, int32 } from '../json-c';
import { decode, needBytes, type Field } from '../layout';

const f = (key: string, offset: number, width: number, kind: Field['kind'] = 'int'): Field => ({ key, offset, width, kind });

export const SMART_LOG_SIZE = 512;

/** Fields after critical_warning up to the temperature sensors. */
export const SMART_FIELDS: readonly Field[] = [
  f('temperature', 1, 2), f('avail_spare', 3, 1), f('spare_thresh', 4, 1), f('percent_used', 5, 1),
  f('endurance_grp_critical_warning_summary', 6, 1), f('data_units_read', 32, 16, 'u128'),
  f('data_units_written', 48, 16, 'u128'), f('host_read_commands', 64, 16, 'u128'),
  f('host_write_commands', 80, 16, 'u128'), f('controller_busy_time', 96, 16, 'u128'),
  f('power_cycles', 112, 16, 'u128'), f('power_on_hours', 128, 16, 'u128'), f('unsafe_shutdowns', 144, 16, 'u128'),
  f('media_errors', 160, 16, 'u128'), f('num_err_log_entries', 176, 16, 'u128'), f('warning_temp_time', 192, 4),
  f('critical_comp_time', 196, 4),
];

/** Temperature sensors 1..8 (u16 kelvin each, from byte 200); nvme-cli prints only nonzero ones. */
export const TEMP_SENSOR_OFFSET = 200;

/** Thermal management counters after the sensors. */
export const SMART_TAIL_FIELDS: readonly Field[] = [
  f('thm_temp1_trans_count', 216, 4), f('thm_temp2_trans_count', 220, 4), f('thm_temp1_total_time', 224, 4),
  f('thm_temp2_total_time', 228, 4),
];

// Critical Warning bits (§5.14.1.2 Figure 194) under the names of `-H -o json`.
const WARNING_BITS = ['available_spare', 'temp_threshold', 'reliability_degraded', 'ro', 'vmbu_failed', 'pmr_ro'];

/** `nvme smart-log -o json` (`human`: with -H, critical_warning as an object of its bits). */
export function smartLogJson(data: Uint8Array, human = false): JcObject {
  const b = needBytes(data, SMART_LOG_SIZE, 'SMART / Health log');
  const root = new JcObject();
  const cw = b.u8(0);
  if (human) {
    const crt = new JcObject().add('value', cw);
    WARNING_BITS.forEach((name, bit) => crt.add(name, (cw >> bit) & 1));
    root.add('critical_warning', crt);
  } else root.add('critical_warning', cw);
  decode(b, SMART_FIELDS, root);
  for (let i = 0; i < 8; i++) {
    const t = b.u16(TEMP_SENSOR_OFFSET + 2 * i);
    if (t !== 0) root.add(`temperature_sensor_${i + 1}`, int32(t));
  }
  return decode(b, SMART_TAIL_FIELDS, root);
}
