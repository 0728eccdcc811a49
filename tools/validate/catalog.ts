// The default case catalogue: the raw conformance cases written over conformance/raw-queue.ts
// (suites registers, admin, dptr, errors) plus validate's own suites (integrity, p2p and the
// driver-level errors cases).
import { allCases } from '../../conformance/index';
import { CaseRegistry } from './registry';
import { errorCases } from './suites/errors';
import { integrityCases } from './suites/integrity';
import { p2pCases } from './suites/p2p';
import type { ConformanceCase, ValidateCase } from './types';

/** validate's own cases (integrity, p2p, driver-level errors). */
export function ownCases(): ValidateCase[] {
  return [...errorCases, ...p2pCases, ...integrityCases];
}

/** The raw conformance cases (conformance/cases). */
export function conformanceCases(): ConformanceCase[] {
  return allCases as ConformanceCase[];
}

/** Every case phyr validate knows. */
export function defaultRegistry(): CaseRegistry {
  return new CaseRegistry().add(conformanceCases()).add(ownCases());
}
