// What a snapshot (and a live read) drops from API objects: fields that are large and that no
// analysis reads. The same function runs on both paths, so a live read and a snapshot of it
// hold the same objects.
import type { Raw } from '../../model/normalize.js';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Removes managedFields and the last-applied annotation, in place; returns the object. */
export function stripObject(obj: Raw): Raw {
  const meta = obj?.metadata;
  if (!meta || typeof meta !== 'object') return obj;
  delete meta.managedFields;
  if (meta.annotations && typeof meta.annotations === 'object' && LAST_APPLIED in meta.annotations) {
    delete meta.annotations[LAST_APPLIED];
    if (Object.keys(meta.annotations).length === 0) delete meta.annotations;
  }
  return obj;
}
