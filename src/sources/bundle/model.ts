// The model of a bundle: read by position when it is indexed (only what the analysis asks
// for), else built from every object.
import { buildModel } from '../../model/build.js';
import type { ClusterModel } from '../../model/cluster.js';
import { LazyClusterModel } from '../../model/lazy-cluster.js';
import type { Bundle } from './read.js';

export function bundleModel(bundle: Bundle, warn?: (message: string) => void): ClusterModel {
  if (bundle.indexed && process.env.KNET_BUNDLE_INDEX !== 'off')
    return new LazyClusterModel(bundle.indexed, bundle.nodeFiles, warn);
  return buildModel(bundle.raws, bundle.nodeFiles, undefined, warn);
}
