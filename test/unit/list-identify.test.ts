// `phyr list`: model, serial and firmware of usable vfio-bound controllers come from their
// Identify data (sysfs has none once the kernel driver let go), and the embedded target is
// listed.
import t from 'tap';
import { listTable, withIdentify } from '../../tools/commands/list';
import type { ControllerStatus } from '../../lib/sysfs/controllers';

const base: ControllerStatus = { bdf: '0000:00:04.0', id: '1b36:0010', model: null, serial: null, driver: 'vfio-pci', iommuGroup: 5, namespaces: [], uses: [], usable: true, reason: '' };

t.test('a usable vfio-bound controller is identified; kernel-bound and unusable ones are not opened', async (t) => {
  const opened: string[] = [];
  const rows = await withIdentify(
    [
      base,
      { ...base, bdf: '0000:00:05.0', driver: 'nvme', model: 'QEMU NVMe Ctrl', serial: 'K1' },
      { ...base, bdf: '0000:00:06.0', usable: false, reason: 'group 6 has 0000:00:07.0 bound to e1000' },
      { ...base, bdf: '0000:00:08.0' },
    ],
    async (target) => {
      opened.push(target);
      if (target === '0000:00:08.0') throw new Error('CSTS.RDY did not rise');
      return { target, model: 'QEMU NVMe Ctrl', serial: 'V1', firmware: '7.2.0', namespaces: [] };
    },
  );
  t.same(opened, ['0000:00:04.0', '0000:00:08.0']);
  t.same([rows[0].model, rows[0].serial, rows[0].firmware], ['QEMU NVMe Ctrl', 'V1', '7.2.0']);
  t.equal(rows[1].serial, 'K1');
  t.equal(rows[3].identifyError, 'CSTS.RDY did not rise');
  const table = listTable(rows, { target: 'emu', model: 'phyr embedded NVMe controller', serial: 'PHYREMU0001', firmware: '1.0', namespaces: [] });
  t.match(table[0], /^ADDRESS\s+ID\s+MODEL\s+SERIAL\s+FW\s+DRIVER\s+GROUP\s+USABLE$/);
  t.match(table[1], /^0000:00:04\.0\s+1b36:0010\s+QEMU NVMe Ctrl\s+V1\s+7\.2\.0\s+vfio-pci\s+5\s+yes$/);
  t.match(table[4], /yes \(Identify failed: CSTS\.RDY did not rise\)$/);
  t.match(table[5], /^emu\s+-\s+phyr embedded NVMe controller\s+PHYREMU0001\s+1\.0\s+\(embedded\)\s+-\s+yes$/);
});
