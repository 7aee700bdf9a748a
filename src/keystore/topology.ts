import type { Country } from '../../protocol/v1/primitives.js';

/** A sample of the real network: offices at crossing points, linked across a border. */
export interface SampleOffice {
  readonly officeId: string;
  readonly country: Country;
  readonly name: string;
  readonly bcp: string;
}

export const SAMPLE_OFFICES: readonly SampleOffice[] = [
  { officeId: 'KZ-KORDAI', country: 'KZ', name: 'BLO Kordai', bcp: 'Kordai' },
  { officeId: 'KG-AKZHOL', country: 'KG', name: 'BLO Ak-Zhol', bcp: 'Ak-Zhol' },
  { officeId: 'UZ-OYBEK', country: 'UZ', name: 'BLO Oybek', bcp: 'Oybek' },
  { officeId: 'TJ-FOTEHOBOD', country: 'TJ', name: 'BLO Fotehobod', bcp: 'Fotehobod' },
  { officeId: 'TJ-PANJ', country: 'TJ', name: 'BLO Panji Poyon', bcp: 'Panji Poyon' },
  { officeId: 'AF-SHERKHAN', country: 'AF', name: 'BLO Sher Khan Bandar', bcp: 'Sher Khan Bandar' },
  { officeId: 'KG-DOSTUK', country: 'KG', name: 'BLO Dostuk', bcp: 'Dostuk' },
  { officeId: 'UZ-DUSTLIK', country: 'UZ', name: 'BLO Dustlik', bcp: 'Dustlik' },
  { officeId: 'UZ-AYRITOM', country: 'UZ', name: 'BLO Ayritom', bcp: 'Termez - Ayritom' },
  { officeId: 'AF-HAIRATAN', country: 'AF', name: 'BLO Hairatan', bcp: 'Hairatan' },
];

/** Pairs of offices facing each other across a border (ids in ascending order). */
export const SAMPLE_LINKS: readonly (readonly [string, string])[] = [
  ['KG-AKZHOL', 'KZ-KORDAI'],
  ['TJ-FOTEHOBOD', 'UZ-OYBEK'],
  ['AF-SHERKHAN', 'TJ-PANJ'],
  ['KG-DOSTUK', 'UZ-DUSTLIK'],
  ['AF-HAIRATAN', 'UZ-AYRITOM'],
];

/** Devices per border office in the development set (an operator desk and a duty laptop). */
export const SAMPLE_DEVICE_LABELS = ['desk-1', 'duty-1'] as const;
