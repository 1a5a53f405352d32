// The worker of cli/doctor-worker.ts (doctor -A): opens the bundle the main thread reads (silently: input
// warnings are the main thread's to say) and runs each node's checks in doctor's order,
// posting each node's results as soon as they are made.
import { parentPort, workerData } from 'node:worker_threads';
import { checkNodeFiles, doctorNodeRequests } from '../analyses/doctor.js';
import { bundleModel } from '../sources/bundle/model.js';
import { readBundle } from '../sources/bundle/read.js';
import { type DoctorWorkerInput, type DoctorWorkerMessage, errorData, toData } from './doctor-worker.js';

const input = workerData as DoctorWorkerInput;
const post = (m: DoctorWorkerMessage) => parentPort?.postMessage(m);
try {
  const model = bundleModel(await readBundle(input.location));
  for (const request of doctorNodeRequests(model)) {
    const result = checkNodeFiles(model, request, undefined);
    post({ node: request.node, proxy: toData(result.proxy), health: result.health && toData(result.health) });
  }
} catch (err) {
  post({ failed: errorData(err) });
}
