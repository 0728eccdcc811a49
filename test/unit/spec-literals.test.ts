// The spec-literals check (test/layout/check-spec-literals.js) over small fixture trees:
// a literal planted in each category must be reported with the spec name to write, and
// the same code written with spec names, or with numbers that are not spec values in that
// place (a reserved opcode, a placeholder 0, a non-BAR buffer, comments and strings),
// must pass.
import { spawnSync } from 'child_process';
import * as path from 'path';
import t from 'tap';

const SCRIPT = path.resolve(__dirname, '..', 'layout', 'check-spec-literals.js');

function checkTree(root: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [SCRIPT, '--root', root], { encoding: 'utf8', timeout: 30000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

// Each planted line: the file, the line of code, and the spec name the report must give.
const planted: [file: string, code: string, name: string][] = [
  ['drivers/admin.ts', 'const c = raw.adminCommand({ opcode: 0x06, nsid: 0 });', 'NVME.ADMIN_IDENTIFY'],
  ['drivers/io.ts', 'if (cmd.opcode === 0x09) trim();', 'NVME.IO_DATASET_MANAGEMENT'],
  ['drivers/batch.ts', 'qp.setIo(i, 0x02, ns.nsid, lba, 8, 512, i, 1, i);', 'NVME.IO_READ'],
  ['drivers/sqe.ts', 'const sqe = adminSqe(0x0C);', 'NVME.ADMIN_ASYNC_EVENT_REQUEST'],
  ['drivers/status.ts', 'if (e.sc === 0x0B) missing();', 'NVME.SC_INVALID_NAMESPACE'],
  ['drivers/sct.ts', 'const typed = { sct: 1 };', 'NVME.SCT_COMMAND_SPECIFIC'],
  ['conformance/gen.ts', 'check.status(c, generic(0x0b), "x");', 'NVME.SC_INVALID_NAMESPACE'],
  ['conformance/spec.ts', 'check.status(c, specific(0x02), "x");', 'NVME.SC_INVALID_QUEUE_SIZE'],
  ['lib/regs.ts', 'const csts = read32(bar, 0x1c);', 'NVME.REG_CSTS'],
  ['lib/regs2.ts', 'write32(this.bar0, 0x14, cc);', 'NVME.REG_CC'],
  ['conformance/raw.ts', 'const v = ctx.raw.reg32(0x1000);', 'NVME.REG_DOORBELLS'],
  ['lib/pci.ts', 'const cmd = fn.configRead(0x04, 2);', 'PCI.CFG_COMMAND'],
  ['lib/pci2.ts', 'fn.configWrite(PCI.CFG_COMMAND, 2, cmd | 0x6);', 'PCI.COMMAND_MEMORY | PCI.COMMAND_BUS_MASTER'],
  ['lib/pci3.ts', 'fn.configWrite(PCI.CFG_COMMAND, 2, cmd & ~0x4);', 'PCI.COMMAND_BUS_MASTER'],
  ['lib/pci4.ts', 'if (fn.configRead(ptr, 1) === 0x11) found();', 'PCI.CAP_ID_MSIX'],
  ['lib/pci5.ts', 'const PCI_COMMAND = 0x04;', 'PCI.CFG_COMMAND'],
  ['drivers/oncs.ts', 'const ONCS_DSM = 1 << 2;', 'NVME.ONCS_DSM'],
  ['emu/native/admin.cc', 'return fail(specific(0x01));', 'nvme::SC_INVALID_QUEUE_IDENTIFIER'],
  ['emu/native/status.cc', 'uint16_t s = makeStatus(0, 0x80, false);', 'nvme::SCT_GENERIC'],
  ['emu/native/status2.cc', 'uint16_t s = makeStatus(SCT_MEDIA, 0x81, false);', 'nvme::SC_UNRECOVERED_READ_ERROR'],
  ['emu/native/faults.h', 'uint16_t status = 0x4002;', 'makeStatus(nvme::SCT_GENERIC, nvme::SC_INVALID_FIELD, true)'],
  ['emu/native/bar.cc', 'auto* cc = reinterpret_cast<uint32_t*>(bar0_.get() + 0x14);', 'nvme::REG_CC'],
  ['emu/native/config.cc', 'cs[0x34] = kCapOffset;', 'pci::CFG_CAPABILITY_LIST'],
  ['emu/native/config2.cc', 'put16(0x2C, kVendor);', 'pci::CFG_SUBSYSTEM_VENDOR_ID'],
  ['emu/native/config3.cc', 'constexpr uint16_t kPciCommandMemory = 1u << 1;', 'pci::COMMAND_MEMORY'],
  ['emu/native/switch2.cc', 'switch (opcode) {\n  case 0x05: createCq(); break;\n  default: break;\n}', 'nvme::ADMIN_CREATE_CQ'],
  ['bench/native/job.h', 'uint8_t opcode = 0x02;', 'nvme::ADMIN_GET_LOG_PAGE or nvme::IO_READ'],
  ['tools/cli.js', "const IO_READ = 0x02;", 'NVME.IO_READ'],
];

// Code that must pass: spec names, and numbers that are not spec values where they stand.
const clean: [file: string, code: string][] = [
  ['drivers/admin.ts', 'const c = raw.adminCommand({ opcode: NVME.ADMIN_IDENTIFY, nsid: 0 });'],
  ['conformance/reserved.ts', 'await adminExpect(ctx, check, { opcode: 0x7f }, generic(NVME.SC_INVALID_OPCODE), "opcode 7Fh");'],
  ['drivers/batch.ts', 'qp.setIo(i, NVME.IO_READ, ns.nsid, lba, 8, 512, i, 1, i);\nqp.setIo(i, 0x7f, 1, 0, 1, 512, 0, 1, 0);'],
  ['drivers/pool.ts', 'const blank = { opcode: 0, nsid: 0 };'],
  ['emu/native/init.h', 'uint8_t opcode = 0;\nuint16_t status = 0;'],
  ['drivers/ok.ts', 'if (status !== 0) fail();'],
  ['lib/buf.ts', 'const v = read32(list, 0x14);'],
  ['lib/regs.ts', 'const csts = read32(bar, NVME.REG_CSTS);'],
  ['lib/pci.ts', 'const cmd = fn.configRead(PCI.CFG_COMMAND, 2);\nfn.configWrite(PCI.CFG_COMMAND, 2, cmd | PCI.COMMAND_MEMORY);'],
  ['lib/comments.ts', '// opcode: 0x06 and read32(bar, 0x1c) in a comment\n/* configRead(0x04, 2) */'],
  ['lib/strings.ts', "const a = 'opcode: 0x06';\nconst b = \"read32(bar, 0x1c)\";\nconst c = `status = 0x4002 ${x} opcode: 0x06`;"],
  ['lib/regex.ts', 'const re = /opcode: 0x06/;'],
  ['lib/other.ts', 'const TIMEOUT_MS = 0x04;\nconst status = 0x7fff + 1 > 0 ? "x" : "y";'],
  ['emu/native/sep.cc', 'constexpr uint64_t kSpinNs = 50\'000;\nuint32_t w = configSpace_[off] & 0x07;'],
  ['emu/native/names.cc', 'return fail(specific(SC_INVALID_QUEUE_IDENTIFIER));\ncs[pci::CFG_CAPABILITY_LIST] = kCapOffset;'],
  ['emu/native/switch.cc', 'switch (kind) {\n  case 0x01: break;\n}'],
  ['spec/own.h', 'X(ADMIN_IDENTIFY, 0x06) read32(bar, 0x1c)'],
  ['test/unit/own.test.ts', 'const c = raw.adminCommand({ opcode: 0x06 });'],
];

/** A fixture directory: file name -> content, directory name -> its tree. */
interface Tree {
  [name: string]: Tree | string;
}

function writeTree(entries: [string, string][]): Tree {
  const tree: Tree = {};
  for (const [file, code] of entries) {
    const parts = file.split('/');
    let dir = tree;
    for (const p of parts.slice(0, -1)) dir = (dir[p] ??= {}) as Tree;
    const name = parts[parts.length - 1];
    dir[name] = `${(dir[name] as string | undefined) ?? ''}${code}\n`;
  }
  return tree;
}

t.test('a planted literal in each category is reported with its spec name', async (t) => {
  const root = t.testdir(writeTree(planted.map(([f, c]) => [f, c])));
  const { status, out } = checkTree(root);
  t.equal(status, 1, 'the check fails');
  for (const [file, code, name] of planted) {
    const line = out.split('\n').find((l) => l.startsWith(`${file}:`) && l.includes(name));
    t.ok(line, `${file}: ${code.split('\n')[0]} -> ${name}`, { out });
  }
  const reported = out.split('\n').filter((l) => /^\S+:\d+: /.test(l)).length;
  t.ok(reported >= planted.length, 'one line per finding');
  t.match(out, /^drivers\/admin\.ts:1: 0x06 is an opcode field: write NVME\.ADMIN_IDENTIFY$/m, 'file:line, literal, what it is, the name');
});

t.test('a switch that is not on an opcode does not make its cases opcodes', async (t) => {
  const root = t.testdir(writeTree([['emu/native/switch.cc', 'switch (sqe.cdw0 & 0xff) { case 0x01: break; }']]));
  t.equal(checkTree(root).status, 0);
});

t.test('the same code written with spec names, and non-spec numbers, pass', async (t) => {
  const root = t.testdir(writeTree(clean));
  const { status, out } = checkTree(root);
  t.equal(status, 0, out);
  t.match(out, /spec-literals: clean/);
});

t.test('the real tree is clean', async (t) => {
  const { status, out } = checkTree(path.resolve(__dirname, '..', '..'));
  t.equal(status, 0, out);
});
