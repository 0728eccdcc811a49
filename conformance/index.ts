// Every raw conformance case, for the emulator tests, the VM tier and phyr validate.
import type { RawCase } from './check';
import { adminCases } from './cases/admin';
import { dptrCases } from './cases/dptr';
import { registerCases } from './cases/registers';
import { cmbCases } from './cases/cmb';
import { ioCases } from './cases/io';
import { sglCases } from './cases/sgl';

export type { RawCase, RawContext } from './check';
export { QUIRK_SILENT_DMA_FAULT } from './cases/dptr';

/** All cases, in suite order. Case ids are unique. */
export const allCases: RawCase[] = [...registerCases, ...adminCases, ...dptrCases, ...sglCases, ...cmbCases, ...ioCases];
