// A pod's own locality demand, from its annotations. Bad values are reported and ignored (fail open).
import type { Problem } from './types.js';

export const LOCALITY_ANNOTATION = 'locus.dev/locality';
export const MIN_FRACTION_ANNOTATION = 'locus.dev/min-local-fraction';
/** The share of a pod's dataset bytes a node must hold when only `locus.dev/locality` is set. */
export const DEFAULT_MIN_LOCAL_FRACTION = 0.5;

export interface LocalityRequirement {
  /** `none`: every node passes; `preferred`: keep nodes that meet it, else all; `required`: only those. */
  mode: 'none' | 'preferred' | 'required';
  minLocalFraction: number;
}

export function localityRequirement(annotations: Record<string, string> | null | undefined): {
  requirement: LocalityRequirement;
  problems: Problem[];
} {
  const problems: Problem[] = [];
  const modeValue = annotations?.[LOCALITY_ANNOTATION];
  const fractionValue = annotations?.[MIN_FRACTION_ANNOTATION];
  let mode: LocalityRequirement['mode'] = 'none';
  if (modeValue === 'preferred' || modeValue === 'required') mode = modeValue;
  else if (modeValue !== undefined && modeValue !== 'none') {
    problems.push({
      field: LOCALITY_ANNOTATION,
      message: `annotation "${LOCALITY_ANNOTATION}" must be "preferred" or "required", got "${modeValue}"; locality is not enforced for this pod`,
    });
  }
  let minLocalFraction = DEFAULT_MIN_LOCAL_FRACTION;
  if (fractionValue !== undefined) {
    const f = Number(fractionValue);
    if (fractionValue.trim() !== '' && Number.isFinite(f) && f >= 0 && f <= 1) minLocalFraction = f;
    else {
      problems.push({
        field: MIN_FRACTION_ANNOTATION,
        message: `annotation "${MIN_FRACTION_ANNOTATION}" must be a number from 0 to 1, e.g. "0.5", got "${fractionValue}"; using ${DEFAULT_MIN_LOCAL_FRACTION}`,
      });
    }
    if (mode === 'none' && modeValue === undefined) mode = 'preferred';
  }
  return { requirement: { mode, minLocalFraction }, problems };
}
