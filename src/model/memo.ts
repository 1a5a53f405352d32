// One value per model and key (a node's parsed state, its dataplane, its rules): computed on
// first use and kept as long as the model lives.
import type { ClusterModel } from './cluster.js';

export function perModel<T>(): (model: ClusterModel, key: string, compute: () => T) => T {
  const byModel = new WeakMap<ClusterModel, Map<string, T>>();
  return (model, key, compute) => {
    let values = byModel.get(model);
    if (!values) {
      values = new Map();
      byModel.set(model, values);
    }
    if (values.has(key)) return values.get(key) as T;
    const value = compute();
    values.set(key, value);
    return value;
  };
}
