// The fault matrix with kube-proxy in nftables mode (the matrix itself: matrix.ts).
import { defineFaultMatrix } from './matrix.js';

defineFaultMatrix('nftables');
